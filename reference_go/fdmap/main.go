// Command fdmap starts a command with syscall.ForkExec and a Files list from
// its command line, to show how Go's child arranges its descriptors.
//
//	fdmap DIR FILES -- COMMAND [ARG...]
//
// FILES is a comma list of descriptor numbers (ProcAttr.Files; -1 means
// "closed in the child"). Before the start, every number N >= 0 in it is made
// a descriptor of this process open on DIR/fd-N, close-on-exec as os.File's
// are, so the child's /proc/self/fd tells which file each slot received.
// Exits with the command's exit status, or 100 if the start failed.
// tests/programs/fdmap.py is the same program on the port's fork_exec.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 5 || os.Args[3] != "--" {
		fmt.Fprintln(os.Stderr, "usage: fdmap DIR FILES -- COMMAND [ARG...]")
		os.Exit(2)
	}
	dir, argv := os.Args[1], os.Args[4:]
	var files []uintptr
	for _, s := range strings.Split(os.Args[2], ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fdmap: bad descriptor", s)
			os.Exit(2)
		}
		files = append(files, uintptr(n))
		if n < 0 {
			continue
		}
		fd, err := syscall.Open(fmt.Sprintf("%s/fd-%d", dir, n), syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			os.Exit(100)
		}
		if fd != n {
			if syscall.Dup3(fd, n, syscall.O_CLOEXEC) != nil {
				os.Exit(100)
			}
			syscall.Close(fd)
		}
	}
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{Env: os.Environ(), Files: files})
	if err != nil {
		os.Exit(100)
	}
	var status syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &status, 0, nil); err != nil {
		os.Exit(100)
	}
	os.Exit(status.ExitStatus())
}
