"""The comparison engine, as CPython keeps Lib/test/support: what every test and script uses.

Tests (tests/test_*.py) and the make targets' entry points (scripts/) import
from here; nothing here imports a test or a script. Each module is named after
what it holds: paths (every path), launchers (every launcher, named once),
probe/probes/netprobes (what is compared), configs (SysProcAttr
configurations), shell and piped (the runners), parity and matrix (the
comparisons), report, matrix_report and kernel_report with templates/ (the
views), trace, faults, strace and translation (syscalls, their failures, the side by side),
kernelvm and kernel_features (other kernels), hostguard, procfs, markers,
strategy_guard and machine (the host, its processes, skips, strategies and
make doctor), goversions and goversions_report (make goversions: each Go
release, and the port against each), bench,
bench_verdict and bench_report (make bench), exec_helper (what the tests of
port.exec share), middle_dies (SUBREAPER's middle process made to die),
closing (a context manager its own close() undoes),
scenario, scenario_gen, launcher_gen and fuzz (generated Go/port scenarios),
figures and run_record (the README's figures and the runs behind them),
run_order (make test's longest modules first),
gotables_gen (make tables: the port's tables from Go's sources).
Programs the tests execute live in tests/programs/.
"""
