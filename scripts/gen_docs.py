"""Write the SysProcAttr translation table into README.md, and the translation side by side, from the code.

    gen_docs.py [--check] [--go GO] [--out reports]

Also writes OUT/translation.{html,md} (scripts/translation.py): Go's notes
beside the port's, and Go's forkAndExecInChild1 beside the port's child, step
by step, with each step's syscalls and tests. --check writes nothing and
fails when the table or that pairing is out of date.

One row per field of Go's syscall.SysProcAttr (read from the Go toolchain's
syscall/exec_linux.go): its Python name in port/sysprocattr.py, what it
becomes (the field's comment there) and the tests that prove it
(tests/support/configs.py and tests/test_pdeathsig.py). A Go field with no Python
counterpart is an error.
"""

import ast
import re
import sys
from pathlib import Path

import translation
from plumbum import cli, local

from tests.support.configs import CONFIGS
from tests.support.paths import ROOT

README = ROOT / "README.md"
BEGIN, END = "<!-- sysprocattr table: make docs -->", "<!-- end of sysprocattr table -->"
# Tests outside tests/support/configs.py that prove a field.
EXTRA_TESTS = {"pdeathsig": ["tests/test_pdeathsig.py"]}


def go_fields(goroot: Path) -> list[str]:
    source = (goroot / "src/syscall/exec_linux.go").read_text()
    struct = source.split("type SysProcAttr struct {", 1)[1].split("\n}", 1)[0]
    return re.findall(r"^\t([A-Z]\w*)\s", struct, re.M)


def python_fields() -> dict[str, str]:
    """Field name -> its trailing comment, from port/sysprocattr.py."""
    path = ROOT / "port/sysprocattr.py"
    lines = path.read_text().splitlines()
    cls = next(n for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef) and n.name == "SysProcAttr")
    return {
        node.target.id: lines[node.lineno - 1].split("  # ", 1)[1]
        for node in cls.body
        if isinstance(node, ast.AnnAssign)
    }


def snake(go_name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", go_name.replace("FD", "Fd")).lower()


def table(goroot: Path) -> str:
    py = python_fields()
    proven: dict[str, list[str]] = {}
    for config in CONFIGS:
        for f in config.fields:
            proven.setdefault(f, []).append(f"`{config.name}`")
    rows = ["| Go field | Python | becomes | proven by |", "|---|---|---|---|"]
    for name in go_fields(goroot):
        attr = snake(name)
        if attr not in py:
            raise SystemExit(f"gen_docs: Go's SysProcAttr.{name} has no field {attr} in port/sysprocattr.py")
        tests = proven.get(attr, []) + [f"`{t}`" for t in EXTRA_TESTS.get(attr, [])]
        becomes = py[attr].replace("|", "\\|")
        rows.append(f"| `{name}` | `{attr}` | {becomes} | {', '.join(tests) or '**none**'} |")
    return "\n".join(rows)


class GenDocs(cli.Application):
    """Regenerate the SysProcAttr table in README.md."""

    check = cli.Flag("--check", help="fail if README.md's table is out of date")
    go = cli.SwitchAttr("--go", str, default="go", help="the go command to ask for GOROOT")
    out = cli.SwitchAttr("--out", str, default=str(ROOT / "reports"), help="where translation.{html,md} go")

    def main(self):
        goroot = Path(local[self.go]("env", "GOROOT").strip())
        text = README.read_text()
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = f"{head}{BEGIN}\n{table(goroot)}\n{END}{tail}"
        problems = translation.problems(goroot)
        for problem in problems:
            print(f"gen_docs: the translation's pairing is out of date: {problem}", file=sys.stderr)
        if self.check:
            if new != text:
                print("README.md's SysProcAttr table is out of date: run make docs", file=sys.stderr)
                return 1
            return 1 if problems else 0
        README.write_text(new)
        translation.write(goroot, Path(self.out))
        print(f"gen_docs: README.md's table; {self.out}/translation.html, translation.md")
        return 1 if problems else 0


if __name__ == "__main__":
    GenDocs.run()
