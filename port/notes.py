"""Run sh in six new namespaces: a line-by-line port of reference_go/notes/main.go.

Read the two files side by side: each Go statement has its counterpart here,
in the same order and under the same name where Python allows. This is a
thin use of the general machinery (port.exec, port.sysprocattr), because the
Go program is itself a thin use of os/exec and syscall; what Go's runtime,
fmt and log do behind the scenes lives in port.runtime, port.fmt, port.log.

How it starts sh underneath (see port/exec_linux.py): Go creates the namespaces
with one clone(2), so sh is born as PID 1 of its new PID namespace; by default
the port makes that same clone(2) through ctypes (port/rawclone.py). What the
launcher prints and how it exits are Go's. The `strategy` argument of main,
and the line that hands it to cmd, are the port's own (Go's main takes
none): through them the suite's variants and the benchmark start sh another way.
"""

import os

from port import exec, fmt, log, runtime
from port import sysprocattr as syscall
from port.errors import GoError
from port.exec_linux import RAW_CLONE


def main(strategy=RAW_CLONE):  # port-only: how sh is started (port/exec_linux.py)
    fmt.println("main starting...")

    cmd = exec.Command("sh")
    cmd.strategy = strategy  # port-only: not in Go
    cmd.sys_proc_attr = syscall.SysProcAttr(
        cloneflags=syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS
        | syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
    )  # fmt: skip
    # cmd.sys_proc_attr.credential = syscall.Credential(uid=1, gid=1)
    cmd.stdin = 0  # os.Stdin
    cmd.stdout = 1  # os.Stdout
    cmd.stderr = 2  # os.Stderr

    try:
        cmd.run()
    except GoError as err:  # if err := cmd.Run(); err != nil {
        log.fatal(err)
    os._exit(-1)  # os.Exit(-1): exit status 255, no deferred calls


if __name__ == "__main__":
    runtime.init()  # what Go's runtime does before main: its signal handling
    main()
