"""Go's own tests for os/exec and syscall's fork/exec, translated to run against the port."""
