"""The suite's markers (pyproject.toml) and why a marked test cannot run here.

conftest.py skips a test with the reason skip_reason gives: the missing
privilege, kernel feature or command (with its Debian package), by name.
"""

import functools
import os
import subprocess

from tests.support import kernel_features, machine


@functools.cache
def userns_problem() -> str | None:
    """Why this (unprivileged) user cannot create a user namespace, or None."""
    if os.geteuid() == 0:
        return None
    proc = subprocess.run(["unshare", "--user", "true"], capture_output=True, text=True)
    if proc.returncode == 0:
        return None
    knobs = ["/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/user/max_user_namespaces",
             "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"]  # fmt: skip
    settings = ", ".join(f"{k.rsplit('/', 1)[1]}={open(k).read().strip()}" for k in knobs if os.path.exists(k))
    return f"unprivileged user namespaces unavailable ({proc.stderr.strip()}; {settings})"


def skip_reason(item) -> str | None:
    """Why a test with these markers cannot run on this host (root, userns, kernel, tool), or None."""
    if item.get_closest_marker("root") and os.geteuid() != 0:
        return "needs euid 0 on the host (CI runs as root)"
    if item.get_closest_marker("userns") and (problem := userns_problem()):
        return problem
    if (mark := item.get_closest_marker("kernel")) and (missing := kernel_features.missing(*mark.args)):
        return f"the kernel lacks {missing}"
    if (mark := item.get_closest_marker("tool")) and (missing := machine.missing_tools(*mark.args)):
        return missing
    return None
