"""Go's fmt.Println and strconv.Quote for the port: bytes as Go writes them.

Go strings are bytes; Python's str from argv, the environment and paths
carries undecodable bytes as surrogates (PEP 383). to_bytes gives the
original bytes back, so a message names a path byte for byte.
"""

from port import runtime


def to_bytes(value: object) -> bytes:
    """Go's bytes of a value printed with %v: str via os.fsencode's rule (UTF-8, surrogateescape)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


def println(*args: object) -> None:
    """Go: fmt.Println(a...): operands joined by spaces, then a newline."""
    runtime.write(1, b" ".join(map(to_bytes, args)) + b"\n")


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def quote(s: str | bytes) -> str:
    """Go: strconv.Quote: a double-quoted Go string literal for s's bytes.

    Printable runes stay as they are; others become \\a ... \\v, \\xNN (below
    space, DEL and every byte that is not valid UTF-8), \\uNNNN or \\UNNNNNNNN.
    Python's repr differs (it writes "\\xa0" where Go writes "\\u00a0").
    """
    text = to_bytes(s).decode("utf-8", "surrogateescape")
    out = []
    for ch in text:
        r = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 0xDC80 <= r <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{r - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif r < 0x20 or r == 0x7F:
            out.append(f"\\x{r:02x}")
        elif r < 0x10000:
            out.append(f"\\u{r:04x}")
        else:
            out.append(f"\\U{r:08x}")
    return '"' + "".join(out) + '"'
