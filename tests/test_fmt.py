"""port/fmt.py's strconv.Quote, compared with Go's through an error that quotes a name.

exec.Command's "executable file not found" error quotes the command name with strconv.Quote; both
launchers print it, so a name made of every class of byte shows Go's quoting and the port's side
by side: escapes, \\xNN for control bytes, DEL and invalid UTF-8, \\u and \\U for runes that are
not printable, printable runes as they are.
"""

import pytest

from port import fmt
from tests.support.piped import launch_both

NAMES = [
    b'plain "quoted" back\\slash',
    b"\x01\x1f \x7f\x80\xfe\xff",  # control bytes, DEL, invalid UTF-8 (0x80 and 0xff: the surrogate range's ends)
    b"\x07\x08\x0c\n\r\t\x0b",  # Go's named escapes
    "\u0080\u009f\u00a0\u2028\ufeff\uffff".encode(),  # C1 controls, no-break space, separators, BOM
    "\U00010000\U0001f600\U000e0001\U0010ffff".encode(),  # the first rune past the BMP, an emoji, a tag, the last
    "é ſ K".encode() + b"\xc3",  # printable non-ASCII, then a truncated sequence
]


@pytest.mark.parametrize("name", NAMES, ids=repr)
def test_quote_is_strconv_quote(name):
    out, err, status = launch_both(["--", name])
    assert (out, status) == (b"", 1)
    go_quoted = err.removeprefix(b"exec: ").removesuffix(b": executable file not found in $PATH\n")
    assert go_quoted != err  # the expected message, only the name differs
    assert fmt.quote(name).encode() == go_quoted
    assert fmt.quote(name.decode("utf-8", "surrogateescape")) == fmt.quote(name)  # str and bytes alike


def test_to_bytes_keeps_bytes_and_undecodable_names():
    assert fmt.to_bytes(b"\xff") == b"\xff"
    assert fmt.to_bytes("\udcff") == b"\xff"
    assert fmt.to_bytes(12) == b"12"
