"""Exec a program in an odd start-up state, as a user's shell or a supervisor might hand it over.

    python tests/programs/startstate.py [--close FD] [--ignore SIG] [--block SIG] [--nofile N]
                               [--env ENTRY]... [--cwd-deleted DIR] [--] PROG ARG...

--close closes fd 0, 1 or 2; --ignore sets a signal to SIG_IGN; --block adds it
to the mask; --nofile sets the RLIMIT_NOFILE soft limit; --env, given at least
once, makes the environment exactly these entries, in order, as execve(2)
gets them (duplicates, an empty name, no "=" at all: what os.execve's mapping
cannot express); --cwd-deleted makes DIR (which must not exist) the current
directory and removes it. Options repeat. SIGPIPE and SIGXFSZ, which CPython ignores,
go back to SIG_DFL first, so only the asked-for state is odd.
"""

import _signal as signal  # the C module, as port.runtime: signal.py's enums cost ~3 ms a start
import os
import resource
import sys


def _execve(path: bytes, argv: list[bytes], env: list[bytes] | None) -> None:
    """execve(2) with env as given (None: this environment, which os.execve passes in its order)."""
    if env is None:  # most runs: without ctypes, which costs this program half its start
        try:
            os.execve(path, argv, os.environb)
        except OSError as e:
            os.write(2, f"startstate: execve {path!r}: {os.strerror(e.errno)}\n".encode())
            os._exit(127)
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    arr_argv = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
    arr_env = (ctypes.c_char_p * (len(env) + 1))(*env, None)
    libc.execve(path, arr_argv, arr_env)
    os.write(2, f"startstate: execve {path!r}: {os.strerror(ctypes.get_errno())}\n".encode())
    os._exit(127)


def main(args: list[bytes]) -> None:
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    close, env = [], None
    while args and args[0].startswith(b"--"):
        opt = args.pop(0).decode()
        if opt == "--":
            break
        value = args.pop(0)
        if opt == "--close":
            close.append(int(value))
        elif opt == "--ignore":
            signal.signal(getattr(signal, f"SIG{value.decode()}"), signal.SIG_IGN)
        elif opt == "--block":
            signal.pthread_sigmask(signal.SIG_BLOCK, {getattr(signal, f"SIG{value.decode()}")})
        elif opt == "--nofile":
            resource.setrlimit(resource.RLIMIT_NOFILE, (int(value), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        elif opt == "--cwd-deleted":
            os.mkdir(value)
            os.chdir(value)
            os.rmdir(value)
        elif opt == "--env":
            env = [*(env or []), value]
        else:
            sys.exit(f"startstate: unknown option {opt}")
    for fd in close:
        os.close(fd)
    _execve(args[0], args, env)


if __name__ == "__main__":
    main([os.fsencode(a) for a in sys.argv[1:]])
