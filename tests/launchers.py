"""The launchers the suite compares, as data: a name and the argv that starts one.

Adding a launcher is one entry here; `make parity LAUNCHERS=go,py,unshare`
selects by name. Each runs `sh` in new namespaces with fds 0-2 handed over.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


@dataclass(frozen=True)
class Launcher:
    name: str
    argv: tuple[str, ...]
    about: str
    reference: bool = False  # the one the others are compared with


GO = Launcher("go", (str(BUILD / "notes-go"),), "the notes' Go program (reference)", reference=True)
PY = Launcher("py", (sys.executable, "-m", "port.notes"), "the line-by-line Python port")
UNSHARE = Launcher(
    "unshare",
    ("unshare", "--user", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "sh"),
    "util-linux unshare(1) with the same six namespaces",
)
PY_RELAY = Launcher(
    "py-relay",
    (sys.executable, "-m", "tests.variants", "strategy=relay"),
    "the port with the RELAY strategy: a middle process stays between launcher and sh",
)
# The port with one namespace flag dropped: the suite must catch each.
BROKEN = {
    flag: Launcher(f"py-no-{flag.lower()}", (sys.executable, "-m", "tests.variants", f"drop={flag}"),
                   f"the port without CLONE_NEW{flag} (deliberately broken)")
    for flag in ("UTS", "IPC", "PID", "NS", "USER", "NET")
}  # fmt: skip
LAUNCHERS = {launcher.name: launcher for launcher in (GO, PY, UNSHARE, PY_RELAY, *BROKEN.values())}
# The pair every regression run compares; the third is for reports.
PAIR = (GO, PY)


def select(names: str) -> list[Launcher]:
    """Return the launchers named in a comma list, reference first."""
    chosen = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in LAUNCHERS:
            raise KeyError(f"unknown launcher {name!r}; known: {', '.join(LAUNCHERS)}")
        chosen.append(LAUNCHERS[name])
    return sorted(chosen, key=lambda launcher: not launcher.reference)
