"""This machine's row of port/gotables_arch.py: the syscall numbers, ioctl numbers, clone(2)'s
argument order and struct layouts that differ between architectures, read from Go's sources.

Every module that needs one imports it from here, so on a machine without a row the port
stops at its first import with one line on stderr and status 1 (SystemExit), no traceback.
"""

import os

from port.gotables_arch import ARCHES

MACHINE = os.uname().machine
if MACHINE not in ARCHES:
    raise SystemExit(f"port: no tables for architecture {MACHINE} (there are for {', '.join(ARCHES)})")
ROW = ARCHES[MACHINE]
