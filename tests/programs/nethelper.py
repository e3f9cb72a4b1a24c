"""Socket checks run inside a launched shell: python nethelper.py CHECK ARGS...

Stdlib only, started with the suite's interpreter (`-I -S`), so that the
shell needs neither nc nor socat. Each check prints "label: value" lines for
the probes' reducers, opens only what it names, and stops by itself: every
connect, accept and read has a short timeout, and every port it listens on is
chosen by the kernel (port 0) or is the port the test passed in.

    loopback HOSTPORT      127.0.0.1 works inside? the host's listener on HOSTPORT reached?
    ports HOSTPORT         bind the host's port inside too, connect to it: whose listener answers?
    serve ADDR             listen on ADDR (kernel's port), print it, answer one message
    talk ADDR PORT         connect to a peer, send a message, print its answer
    reach PORT ADDR...     connect to each address: which ones does this namespace reach?

Several checks may go in one run, separated by "+" (one interpreter start).
"""

import _socket  # the C module: `socket` also imports enum and selectors, doubling the start
import sys

TIMEOUT = 1.0  # seconds for one connect or read; failures here are immediate
SERVE_TIMEOUT = 5.0  # how long serve waits for its one peer


class Socket(_socket.socket):
    """_socket.socket with the two things used here from socket.socket: `with` and accept()."""

    def __enter__(self) -> "Socket":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def accept(self) -> tuple["Socket", tuple]:
        fd, peer = self._accept()
        return Socket(fileno=fd), peer


def why(e: OSError) -> str:
    """An error as the probes show it: the C library's text, without the errno number."""
    if isinstance(e, TimeoutError) or e.errno is None:
        return "timed out"
    return (e.strerror or str(e)).lower()


def family(addr: str) -> int:
    return _socket.AF_INET6 if ":" in addr else _socket.AF_INET


def connect(addr: str, port: int) -> Socket:
    s = Socket(family(addr), _socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    try:
        s.connect((addr, port))
    except OSError:
        s.close()
        raise
    return s


def listener(addr: str, port: int) -> Socket:
    s = Socket(family(addr), _socket.SOCK_STREAM)
    try:
        s.bind((addr, port))
        s.listen(1)
    except OSError:
        s.close()
        raise
    s.settimeout(TIMEOUT)
    return s


def round_trip(server: Socket | None, addr: str, port: int) -> str:
    """Connect to addr:port and say who took the connection: server, or someone else."""
    try:
        client = connect(addr, port)
    except OSError as e:
        return why(e)
    with client:
        if server is None:
            return "reached another listener"
        try:
            conn, peer = server.accept()
        except OSError:
            return "reached another listener"
        with conn:
            client.sendall(b"ping\n")
            conn.settimeout(TIMEOUT)
            ours = peer == client.getsockname() and conn.recv(16) == b"ping\n"
        return "reached its own listener" if ours else "reached another listener"


def loopback(host_port: str) -> None:
    try:
        with listener("127.0.0.1", 0) as server:
            print(f"127.0.0.1 inside: {round_trip(server, '127.0.0.1', server.getsockname()[1])}")
    except OSError as e:
        print(f"127.0.0.1 inside: listen: {why(e)}")
    # refused: this namespace's own loopback answered; connected: someone listens there (the host?)
    print(f"host's listener: {connect_result('127.0.0.1', int(host_port))}")


def ports(host_port: str) -> None:
    port = int(host_port)
    any_addr = Socket(_socket.AF_INET, _socket.SOCK_STREAM)  # bound, never listening: nothing can reach it
    try:
        any_addr.bind(("0.0.0.0", port))
        print("same port on 0.0.0.0: bound")
    except OSError as e:
        print(f"same port on 0.0.0.0: {why(e)}")
    finally:
        any_addr.close()
    server = None
    try:
        server = listener("127.0.0.1", port)
        print("same port on 127.0.0.1: bound")
    except OSError as e:
        print(f"same port on 127.0.0.1: {why(e)}")
    try:
        print(f"connect to 127.0.0.1 on that port: {round_trip(server, '127.0.0.1', port)}")
    finally:
        if server is not None:
            server.close()


def serve(addr: str) -> None:
    with listener(addr, 0) as server:
        print(f"listening: {server.getsockname()[1]}", flush=True)
        server.settimeout(SERVE_TIMEOUT)
        try:
            conn, _ = server.accept()
        except OSError as e:
            print(f"got: nothing ({why(e)})")
            return
        with conn:
            conn.settimeout(TIMEOUT)
            got = conn.recv(64).decode(errors="replace").strip()
            conn.sendall(b"hello back\n")
        print(f"got: {got}")


def talk(addr: str, port: str) -> None:
    if addr == "none":
        print("peer answered: no peer wired")
        return
    try:
        with connect(addr, int(port)) as s:
            s.sendall(b"hello from the other shell\n")
            answer = s.recv(64).decode(errors="replace").strip()
    except OSError as e:
        answer = f"no answer ({why(e)})"
    print(f"peer answered: {answer}")


def connect_result(addr: str, port: int) -> str:
    """ "connected", or why not."""
    try:
        connect(addr, port).close()
    except OSError as e:
        return why(e)
    return "connected"


def reached(result: str) -> str:
    """A refusal is an answer from the stack that owns the address: reached."""
    return "reached" if result in ("connected", "connection refused") else f"not reached ({result})"


def reach(port: str, *addrs: str) -> None:
    """Connect to each address on port; a summary line, then one line per address."""
    results = {a: reached(connect_result(a, int(port))) for a in addrs}
    count = sum(r == "reached" for r in results.values())
    summary = "none" if count == 0 else "all" if count == len(addrs) else count
    print(f"host's addresses: {summary} of {len(addrs)} reached")
    for a, r in results.items():
        print(f"  {a}: {r}")


CHECKS = {"loopback": loopback, "ports": ports, "serve": serve, "talk": talk, "reach": reach}

if __name__ == "__main__":
    runs = " ".join(sys.argv[1:]).split(" + ")
    if not all(run.split()[0] in CHECKS for run in runs if run):
        sys.exit(f"usage: nethelper.py {{{','.join(CHECKS)}}} ARGS... [+ CHECK ARGS...]")
    for check, *args in (run.split() for run in runs):
        CHECKS[check](*args)
