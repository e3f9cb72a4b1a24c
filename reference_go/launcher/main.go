// Command launcher runs a command with every Linux field of
// syscall.SysProcAttr settable from the command line. It is the reference
// for a Python twin, so the rules below are the contract; --help prints the
// same text.
//
// Usage: launcher [OPTIONS] [--] COMMAND [ARG...]
//
// Arguments are read left to right. "--" ends the options; otherwise the
// first argument that does not start with "-" starts the command. Any other
// argument starting with "-" is an option (a lone "-" is an unknown option).
// Options are long only, but for -h (the same as --help). A value option
// takes its value from "--opt=value" (everything after the first "="; may be
// empty) or, without "=", from the next argument taken verbatim (even if it
// starts with "-").
//
//	--clone LIST          Cloneflags (repeatable, ORed)
//	--unshare LIST        Unshareflags (repeatable, ORed)
//	                      LIST: comma list of uts,ipc,pid,ns,user,net,cgroup,time
//	--uid-map C:H:S       append to UidMappings (ContainerID:HostID:Size)
//	--gid-map C:H:S       append to GidMappings
//	--setgroups allow|deny  GidMappingsEnableSetgroups (default deny=false)
//	--credential UID:GID[:G1,G2,...]
//	                      Credential; "UID:GID" leaves Groups nil,
//	                      "UID:GID:" sets Groups to an empty list
//	--no-setgroups        Credential.NoSetGroups=true (needs --credential)
//	--setsid              Setsid
//	--setpgid             Setpgid
//	--pgid N              Pgid (does not imply --setpgid)
//	--setctty             Setctty
//	--noctty              Noctty
//	--ctty N              Ctty
//	--foreground          Foreground
//	--ptrace              Ptrace; report the exec stop, detach, then wait
//	--pdeathsig SIG       Pdeathsig; a name with or without SIG (TERM,
//	                      SIGKILL, ...) or 1-64
//	--chroot DIR          Chroot
//	--ambient-caps LIST   AmbientCaps (repeatable, appended); comma list of
//	                      capability names without CAP_ (net_raw, ...) or 0-63
//	--cgroup DIR          open DIR, set UseCgroupFD=true and CgroupFD
//	--pidfd               set PidFD; after start print "pidfd: ok" or
//	                      "pidfd: none" on stderr
//	--dir DIR             working directory of the command (cmd.Dir)
//	--strategy S          how the Python port starts the command: subreaper,
//	                      relay or raw-clone (default); Go checks and ignores it
//	--help, -h            print this text on stdout and exit 0
//	--version             print nsport's version and which twin this is (Go
//	                      or Python, with its version) on stdout; exit 0
//
// Names (namespaces, signals, capabilities) match ignoring ASCII case.
// Numbers are one or more ASCII digits: ids and map fields up to 4294967295,
// N up to 2147483647. List items are not trimmed; an empty item is unknown.
// Options that are not repeatable keep their last value.
//
// Errors in the arguments print one line "launcher: MESSAGE" on stderr and
// exit 2 (an unknown option adds "(--help lists the options)"). The first
// bad argument wins; then --no-setgroups without --credential; then a
// missing command; then opening the --cgroup DIR. If starting or waiting
// for the command fails (including a non-zero exit) the error is logged
// with the standard logger, in Go's words (the Python twin prints the
// same), and the exit status is 1; otherwise the exit status is 0.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

const usage = `Usage: launcher [OPTIONS] [--] COMMAND [ARG...]

Arguments are read left to right. "--" ends the options; otherwise the
first argument that does not start with "-" starts the command. Any other
argument starting with "-" is an option (a lone "-" is an unknown option).
Options are long only, but for -h (the same as --help). A value option
takes its value from "--opt=value" (everything after the first "="; may be
empty) or, without "=", from the next argument taken verbatim (even if it
starts with "-").

  --clone LIST          Cloneflags (repeatable, ORed)
  --unshare LIST        Unshareflags (repeatable, ORed)
                        LIST: comma list of uts,ipc,pid,ns,user,net,cgroup,time
  --uid-map C:H:S       append to UidMappings (ContainerID:HostID:Size)
  --gid-map C:H:S       append to GidMappings
  --setgroups allow|deny  GidMappingsEnableSetgroups (default deny=false)
  --credential UID:GID[:G1,G2,...]
                        Credential; "UID:GID" leaves Groups nil,
                        "UID:GID:" sets Groups to an empty list
  --no-setgroups        Credential.NoSetGroups=true (needs --credential)
  --setsid              Setsid
  --setpgid             Setpgid
  --pgid N              Pgid (does not imply --setpgid)
  --setctty             Setctty
  --noctty              Noctty
  --ctty N              Ctty
  --foreground          Foreground
  --ptrace              Ptrace; report the exec stop, detach, then wait
  --pdeathsig SIG       Pdeathsig; a name with or without SIG (TERM,
                        SIGKILL, ...) or 1-64
  --chroot DIR          Chroot
  --ambient-caps LIST   AmbientCaps (repeatable, appended); comma list of
                        capability names without CAP_ (net_raw, ...) or 0-63
  --cgroup DIR          open DIR, set UseCgroupFD=true and CgroupFD
  --pidfd               set PidFD; after start print "pidfd: ok" or
                        "pidfd: none" on stderr
  --dir DIR             working directory of the command (cmd.Dir)
  --strategy S          how the Python port starts the command: subreaper,
                        relay or raw-clone (default); Go checks and ignores it
  --help, -h            print this text on stdout and exit 0
  --version             print nsport's version and which twin this is (Go
                        or Python, with its version) on stdout; exit 0

Names (namespaces, signals, capabilities) match ignoring ASCII case.
Numbers are one or more ASCII digits: ids and map fields up to 4294967295,
N up to 2147483647. List items are not trimmed; an empty item is unknown.
Options that are not repeatable keep their last value.

Errors in the arguments print one line "launcher: MESSAGE" on stderr and
exit 2 (an unknown option adds "(--help lists the options)"). The first
bad argument wins; then --no-setgroups without --credential; then a
missing command; then opening the --cgroup DIR. If starting or waiting
for the command fails (including a non-zero exit) the error is logged
with the standard logger, in Go's words (the Python twin prints the
same), and the exit status is 1; otherwise the exit status is 0.
`

// version is nsport's (pyproject.toml); --version prints it with the Go
// that built this launcher, and the Python twin with its Python.
const version = "0.1.0"

// Limits for parsed numbers: ids are uint32 in the kernel, the other
// numbers are C ints.
const (
	maxID  = 1<<32 - 1
	maxInt = 1<<31 - 1
)

// sysPidfdSendSignal is pidfd_send_signal(2); the syscall package has no
// constant for it on amd64. 424 is its number on every architecture that
// uses the unified syscall table (all but alpha, ia64 and mips).
const sysPidfdSendSignal = 424

var namespaces = map[string]uintptr{
	"uts":    syscall.CLONE_NEWUTS,
	"ipc":    syscall.CLONE_NEWIPC,
	"pid":    syscall.CLONE_NEWPID,
	"ns":     syscall.CLONE_NEWNS,
	"user":   syscall.CLONE_NEWUSER,
	"net":    syscall.CLONE_NEWNET,
	"cgroup": syscall.CLONE_NEWCGROUP,
	"time":   syscall.CLONE_NEWTIME,
}

// Signal names use the syscall constants so the numbers follow the
// architecture.
var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"ILL": syscall.SIGILL, "TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT,
	"IOT": syscall.SIGIOT, "BUS": syscall.SIGBUS, "FPE": syscall.SIGFPE,
	"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "SEGV": syscall.SIGSEGV,
	"USR2": syscall.SIGUSR2, "PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM,
	"TERM": syscall.SIGTERM, "STKFLT": syscall.SIGSTKFLT, "CHLD": syscall.SIGCHLD,
	"CONT": syscall.SIGCONT, "STOP": syscall.SIGSTOP, "TSTP": syscall.SIGTSTP,
	"TTIN": syscall.SIGTTIN, "TTOU": syscall.SIGTTOU, "URG": syscall.SIGURG,
	"XCPU": syscall.SIGXCPU, "XFSZ": syscall.SIGXFSZ, "VTALRM": syscall.SIGVTALRM,
	"PROF": syscall.SIGPROF, "WINCH": syscall.SIGWINCH, "IO": syscall.SIGIO,
	"POLL": syscall.SIGPOLL, "PWR": syscall.SIGPWR, "SYS": syscall.SIGSYS,
}

// capNames lists the kernel capability names; the index is the number.
var capNames = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
	"net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
	"sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
	"setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// config is everything the command line asks for.
type config struct {
	attr        syscall.SysProcAttr
	noSetGroups bool
	pidfd       bool
	cgroupDir   string
	useCgroup   bool
	dir         string
	argv        []string
}

// usageError is a bad command line; main prints it and exits 2.
type usageError string

func (e usageError) Error() string { return string(e) }

func failf(format string, a ...any) error {
	return usageError(fmt.Sprintf(format, a...))
}

// errHelp asks main to print the usage text, errVersion the version.
var (
	errHelp    = errors.New("help")
	errVersion = errors.New("version")
)

// option describes one command-line option.
type option struct {
	hasValue bool
	set      func(c *config, name, value string) error
}

// flag makes an option without a value that just sets a boolean.
func flag(field func(c *config) *bool) option {
	return option{set: func(c *config, _, _ string) error {
		*field(c) = true
		return nil
	}}
}

var options = map[string]option{
	"--clone": {true, func(c *config, name, v string) error {
		return addNamespaces(&c.attr.Cloneflags, name, v)
	}},
	"--unshare": {true, func(c *config, name, v string) error {
		return addNamespaces(&c.attr.Unshareflags, name, v)
	}},
	"--uid-map": {true, func(c *config, name, v string) error {
		return addIDMap(&c.attr.UidMappings, name, v)
	}},
	"--gid-map": {true, func(c *config, name, v string) error {
		return addIDMap(&c.attr.GidMappings, name, v)
	}},
	"--setgroups":    {true, setSetgroups},
	"--credential":   {true, setCredential},
	"--no-setgroups": flag(func(c *config) *bool { return &c.noSetGroups }),
	"--setsid":       flag(func(c *config) *bool { return &c.attr.Setsid }),
	"--setpgid":      flag(func(c *config) *bool { return &c.attr.Setpgid }),
	"--setctty":      flag(func(c *config) *bool { return &c.attr.Setctty }),
	"--noctty":       flag(func(c *config) *bool { return &c.attr.Noctty }),
	"--foreground":   flag(func(c *config) *bool { return &c.attr.Foreground }),
	"--ptrace":       flag(func(c *config) *bool { return &c.attr.Ptrace }),
	"--pidfd":        flag(func(c *config) *bool { return &c.pidfd }),
	"--pgid": {true, func(c *config, name, v string) error {
		return setInt(&c.attr.Pgid, name, v)
	}},
	"--ctty": {true, func(c *config, name, v string) error {
		return setInt(&c.attr.Ctty, name, v)
	}},
	"--pdeathsig":    {true, setPdeathsig},
	"--chroot":       {true, func(c *config, _, v string) error { c.attr.Chroot = v; return nil }},
	"--ambient-caps": {true, addAmbientCaps},
	"--cgroup": {true, func(c *config, _, v string) error {
		c.cgroupDir, c.useCgroup = v, true
		return nil
	}},
	"--dir": {true, func(c *config, _, v string) error { c.dir = v; return nil }},
	// The Python port's start strategy: checked, then ignored, so that both
	// launchers take one option set (Go always makes one clone).
	"--strategy": {true, func(_ *config, name, v string) error {
		switch v {
		case "subreaper", "relay", "raw-clone":
			return nil
		}
		return failf("%s: want subreaper, relay or raw-clone, got \"%s\"", name, v)
	}},
	"--help":    {false, func(*config, string, string) error { return errHelp }},
	"-h":        {false, func(*config, string, string) error { return errHelp }},
	"--version": {false, func(*config, string, string) error { return errVersion }},
}

// parseArgs turns the arguments (without the program name) into a config.
func parseArgs(args []string) (*config, error) {
	c := &config{}
	i := 0
	for ; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		if !strings.HasPrefix(arg, "-") {
			break
		}
		name, value, inline := strings.Cut(arg, "=")
		opt, ok := options[name]
		if !ok {
			return nil, failf("unknown option: %s (--help lists the options)", name)
		}
		switch {
		case !opt.hasValue && inline:
			return nil, failf("option %s takes no value", name)
		case opt.hasValue && !inline:
			if i+1 >= len(args) {
				return nil, failf("option %s needs a value", name)
			}
			i++
			value = args[i]
		}
		if err := opt.set(c, name, value); err != nil {
			return nil, err
		}
	}
	c.argv = args[i:]

	if c.noSetGroups && c.attr.Credential == nil {
		return nil, failf("--no-setgroups needs --credential")
	}
	if c.noSetGroups {
		c.attr.Credential.NoSetGroups = true
	}
	if len(c.argv) == 0 {
		return nil, failf("no command given")
	}
	return c, nil
}

// asciiLower folds only ASCII letters, so that non-ASCII input such as the
// Kelvin sign never matches a name.
func asciiLower(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			b[i] = ch + ('a' - 'A')
		}
	}
	return string(b)
}

// parseNum accepts one or more ASCII digits with a value of at most max.
func parseNum(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for _, ch := range []byte(s) {
		if ch < '0' || ch > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

func addNamespaces(flags *uintptr, name, list string) error {
	for _, item := range strings.Split(list, ",") {
		f, ok := namespaces[asciiLower(item)]
		if !ok {
			return failf("%s: unknown namespace \"%s\"", name, item)
		}
		*flags |= f
	}
	return nil
}

func addIDMap(maps *[]syscall.SysProcIDMap, name, spec string) error {
	parts := strings.Split(spec, ":")
	var n [3]uint64
	ok := len(parts) == 3
	for i := 0; ok && i < 3; i++ {
		n[i], ok = parseNum(parts[i], maxID)
	}
	if !ok {
		return failf("%s: want CONTAINER:HOST:SIZE, got \"%s\"", name, spec)
	}
	*maps = append(*maps, syscall.SysProcIDMap{
		ContainerID: int(n[0]), HostID: int(n[1]), Size: int(n[2]),
	})
	return nil
}

func setSetgroups(c *config, name, v string) error {
	switch v {
	case "allow":
		c.attr.GidMappingsEnableSetgroups = true
	case "deny":
		c.attr.GidMappingsEnableSetgroups = false
	default:
		return failf("%s: want allow or deny, got \"%s\"", name, v)
	}
	return nil
}

func setCredential(c *config, name, spec string) error {
	bad := failf("%s: want UID:GID[:G1,G2,...], got \"%s\"", name, spec)
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return bad
	}
	uid, ok1 := parseNum(parts[0], maxID)
	gid, ok2 := parseNum(parts[1], maxID)
	if !ok1 || !ok2 {
		return bad
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	// A third field, even an empty one, means an explicit group list.
	if len(parts) == 3 {
		cred.Groups = []uint32{}
		if parts[2] != "" {
			for _, g := range strings.Split(parts[2], ",") {
				n, ok := parseNum(g, maxID)
				if !ok {
					return bad
				}
				cred.Groups = append(cred.Groups, uint32(n))
			}
		}
	}
	c.attr.Credential = cred
	return nil
}

func setInt(field *int, name, v string) error {
	n, ok := parseNum(v, maxInt)
	if !ok {
		return failf("%s: want a number, got \"%s\"", name, v)
	}
	*field = int(n)
	return nil
}

func setPdeathsig(c *config, name, v string) error {
	if n, ok := parseNum(v, 64); ok && n >= 1 {
		c.attr.Pdeathsig = syscall.Signal(n)
		return nil
	}
	want := strings.TrimPrefix(asciiLower(v), "sig") // SIGTERM, sigterm and TERM alike
	for sigName, sig := range signals {
		if asciiLower(sigName) == want {
			c.attr.Pdeathsig = sig
			return nil
		}
	}
	return failf("%s: unknown signal \"%s\"", name, v)
}

func addAmbientCaps(c *config, name, list string) error {
	for _, item := range strings.Split(list, ",") {
		capNum, ok := lookupCap(item)
		if !ok {
			return failf("%s: unknown capability \"%s\"", name, item)
		}
		c.attr.AmbientCaps = append(c.attr.AmbientCaps, capNum)
	}
	return nil
}

// lookupCap accepts a capability name or a number below 64 (the kernel's
// capability sets are 64 bits wide; unknown numbers fail when starting).
func lookupCap(s string) (uintptr, bool) {
	if n, ok := parseNum(s, 63); ok {
		return uintptr(n), true
	}
	lower := asciiLower(s)
	for i, capName := range capNames {
		if capName == lower {
			return uintptr(i), true
		}
	}
	return 0, false
}

// describe renders a wait status for the ptrace report.
func describe(ws syscall.WaitStatus) string {
	switch {
	case ws.Continued(): // checked first: 0xffff also looks stopped
		return "continued"
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Stopped():
		return fmt.Sprintf("stopped (%v)", ws.StopSignal())
	case ws.CoreDump():
		return fmt.Sprintf("signal: %v (core dumped)", ws.Signal())
	default:
		return fmt.Sprintf("signal: %v", ws.Signal())
	}
}

// reportPidfd checks that the pidfd Go stored refers to the live child.
func reportPidfd(fd int) {
	status := "none"
	if fd >= 0 {
		_, _, errno := syscall.Syscall6(sysPidfdSendSignal, uintptr(fd), 0, 0, 0, 0, 0)
		if errno == 0 {
			status = "ok"
		}
	}
	fmt.Fprintf(os.Stderr, "pidfd: %s\n", status)
}

// handlePtrace waits for the exec stop of a traced child, reports it and
// lets the child go. It must run on the thread that started the child.
func handlePtrace(pid int) {
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil {
		log.Fatal(err)
	}
	if ws.Stopped() && ws.StopSignal() == syscall.SIGTRAP {
		fmt.Fprintln(os.Stderr, "ptrace: stopped (trace/breakpoint trap)")
	} else {
		fmt.Fprintf(os.Stderr, "ptrace: %s\n", describe(ws))
	}
	if ws.Stopped() {
		if err := syscall.PtraceDetach(pid); err != nil {
			log.Fatal(err)
		}
	}
}

func main() {
	c, err := parseArgs(os.Args[1:])
	if err == errHelp {
		fmt.Print(usage)
		os.Exit(0)
	}
	if err == errVersion {
		fmt.Printf("launcher %s (nsport): the Go reference, %s\n", version, runtime.Version())
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "launcher: %v\n", err)
		os.Exit(2)
	}

	attr := &c.attr
	var cgroup *os.File
	if c.useCgroup {
		cgroup, err = os.OpenFile(c.cgroupDir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "launcher: --cgroup: %v\n", err)
			os.Exit(2)
		}
		attr.UseCgroupFD = true
		attr.CgroupFD = int(cgroup.Fd())
	}
	pidfd := -1
	if c.pidfd {
		attr.PidFD = &pidfd
	}

	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = attr
	cmd.Stdin = os.Stdin
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	// The tracer is the thread that forks, and ptrace requests must come
	// from that same thread, so pin this goroutine to it.
	if attr.Ptrace {
		runtime.LockOSThread()
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	runtime.KeepAlive(cgroup) // the fd must stay open until the clone
	if c.pidfd {
		reportPidfd(pidfd)
	}
	if attr.Ptrace {
		handlePtrace(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		log.Fatal(err)
	}
	os.Exit(0)
}
