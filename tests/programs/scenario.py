"""The port's twin of reference_go/scenario: run one os/exec scenario (JSON on stdin) over port.exec.

    python tests/programs/scenario.py < scenario.json

Prints the same transcript as build/scenario-go: every call's result and error
text, what the buffers hold, the ProcessState, and how many pipe descriptors
are still open. The scenario format is described in reference_go/scenario/main.go.
How Go's values are written here: a closed *os.File is a closed Python file
object, a bytes.Buffer any object with write(), an error Go returns is a
GoError raised (a Write's count before it is the error's `n`), io.EOF is b"".
"""

import json
import os
import sys
import time

from port import context, exec
from port.fmt import quote
from port.sysprocattr import SysProcAttr


class Buffer:
    def __init__(self):
        self.data = b""

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


class ShortWriter:
    def write(self, data: bytes) -> int:
        return len(data) // 2


class ErrorWriter:
    def write(self, data: bytes) -> int:
        raise exec.GoError("writer failed")


# One value each, as Go's: two shortWriter{} are equal interfaces, so Stdout and Stderr share a pipe.
SHORT_WRITER, ERROR_WRITER = ShortWriter(), ErrorWriter()


def open_pipes() -> int:
    n = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{name}").startswith("pipe:")
        except OSError:
            pass
    return n


def dev_null(mode: str, closed: bool):
    f = open(os.devnull, mode)
    if closed:
        f.close()
    return f


def main() -> int:
    s = json.load(sys.stdin)
    before = open_pipes()
    args = s["args"]
    ctx = s.get("ctx", "")
    cancel = lambda: None  # noqa: E731 - Go's cancelCtx before a context has one
    if ctx == "":
        cmd = exec.Command(args[0], *args[1:])
    elif ctx == "background":
        cmd = exec.CommandContext(context.background(), args[0], *args[1:])
    else:  # "cancelled" before the start, or "cancellable" by the call Cancel
        c, cancel = context.with_cancel()
        if ctx == "cancelled":
            cancel()
        cmd = exec.CommandContext(c, args[0], *args[1:])
    if s.get("cancel") == "error":

        def cancel_with_error():
            cmd.process.kill()
            return Exception("cancel failed")  # Go: Cancel returns an error (errors.New)

        cmd.cancel = cancel_with_error
    elif s.get("cancel") == "noop":
        cmd.cancel = lambda: None
    cmd.dir = s.get("dir", "")
    if s.get("env") is not None:
        cmd.env = s["env"]
    if s.get("sys") is not None:
        cmd.sys_proc_attr = SysProcAttr(setpgid=s["sys"].get("setpgid", False), setsid=s["sys"].get("setsid", False))
    cmd.wait_delay = s.get("wait_delay_ms", 0) / 1000
    buffers = {}

    def writer(name: str, kind: str):
        if kind == "buffer":
            buffers[name] = Buffer()
            return buffers[name]
        if kind == "short":
            return SHORT_WRITER
        if kind == "error":
            return ERROR_WRITER
        if kind in ("devnull", "closed"):
            return dev_null("wb", kind == "closed")
        return None

    stdin_kind = s.get("stdin", "nil")
    if stdin_kind.startswith("reader:"):
        import io

        cmd.stdin = io.BytesIO(stdin_kind.removeprefix("reader:").encode())
    elif stdin_kind in ("devnull", "closed"):
        cmd.stdin = dev_null("rb", stdin_kind == "closed")
    cmd.stdout = writer("stdout", s.get("stdout", "nil"))
    cmd.stderr = writer("stderr", s.get("stderr", "nil"))
    cmd.extra_files = [None if k == "nil" else dev_null("rb", k == "closed") for k in s.get("extra_files", [])]
    stdin = stdout = stderr = None
    for call in s["calls"]:
        name, _, arg = call.partition(":")
        err, result = None, ""
        missing = (
            ((name.endswith("Stdin") or name == "Write") and stdin is None)
            or ((name.endswith("Stdout") or name.startswith("Read")) and stdout is None)
            or (name == "CloseStderr" and stderr is None)
            or (name.startswith("Process") and cmd.process is None)
        )
        if missing:
            print(f"{call} -> no such pipe or process", flush=True)
            continue
        try:
            if name == "Start":
                cmd.start()
            elif name == "Wait":
                cmd.wait()
            elif name == "Run":
                cmd.run()
            elif name in ("Output", "CombinedOutput"):
                out = b""
                try:
                    out = cmd.output() if name == "Output" else cmd.combined_output()
                except exec.GoError as e:
                    out = getattr(e, "output", b"")
                    raise
                finally:
                    result = quote(out)
            elif name == "String":
                result = quote(cmd.string())
            elif name == "Environ":
                result = quote(b"\n".join(cmd.environ()))
            elif name == "StdinPipe":
                stdin = cmd.stdin_pipe()
            elif name == "StdoutPipe":
                stdout = cmd.stdout_pipe()
            elif name == "StderrPipe":
                stderr = cmd.stderr_pipe()
            elif name == "Write":
                result = "0"
                try:
                    result = str(stdin.write(arg.encode()))
                except Exception as e:
                    result = str(getattr(e, "n", 0))
                    raise
            elif name == "CloseStdin":
                stdin.close()
            elif name == "Read":
                result = quote(b"")
                data = stdout.read(int(arg))
                result = quote(data)
                if not data and int(arg):
                    err = "EOF"  # Go: io.EOF
            elif name == "ReadAll":
                out = b""
                result = quote(out)
                while chunk := stdout.read(32 << 10):
                    out += chunk
                    result = quote(out)
            elif name == "CloseStdout":
                stdout.close()
            elif name == "CloseStderr":
                stderr.close()
            elif name == "ProcessWait":
                result = cmd.process.wait().string()
            elif name == "ProcessKill":
                cmd.process.kill()
            elif name == "Sleep":
                time.sleep(int(arg) / 1000)
            elif name == "Cancel":
                cancel()
            else:
                print("unknown call:", call)
                return 2
        except Exception as e:  # noqa: BLE001 - the transcript shows whatever the port raised
            err = str(e) if isinstance(e, exec.GoError) else f"{type(e).__name__}: {e}"
        err = "<nil>" if err is None else err
        print(f"{call} -> {result}, {err}" if result else f"{call} -> {err}", flush=True)
    for name in ("stdout", "stderr"):
        if name in buffers:
            print(f"{name} buffer: {quote(buffers[name].data)}")
    if cmd.process_state is not None:
        print(f"ProcessState: {cmd.process_state}")
    print(f"pipes left open: {open_pipes() - before}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
