// Command scenario runs one os/exec scenario, read as JSON from stdin, and prints
// a transcript: every call's result and error text, then what the buffers hold and
// how many pipe descriptors the program still has open. Its Python twin is
// tests/programs/scenario.py over port.exec; tests/support/scenario.py compares them.
//
// A scenario: {"args": [...], "dir": "", "env": null, "stdin": KIND, "stdout": KIND,
// "stderr": KIND, "extra_files": [KIND...], "sys": null | {"setpgid": bool, "setsid": bool},
// "ctx": "" | "background" | "cancelled" | "cancellable", "cancel": "" | "error" | "noop",
// "wait_delay_ms": N, "calls": [CALL...]}. "cancellable" is cancelled by the call "Cancel";
// "cancel" replaces Cmd.Cancel: "error" kills, then returns an error; "noop" kills nothing.
// KIND: "nil", "buffer", "reader:TEXT", "short", "error", "devnull", "closed".
// CALL: "Start", "Wait", "Run", "Output", "CombinedOutput", "String", "Environ", "StdinPipe",
// "StdoutPipe", "StderrPipe", "Write:TEXT", "CloseStdin", "Read:N", "ReadAll",
// "CloseStdout", "ProcessWait", "ProcessKill", "Sleep:MS", "Cancel".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type scenario struct {
	Args        []string         `json:"args"`
	Dir         string           `json:"dir"`
	Env         []string         `json:"env"`
	Stdin       string           `json:"stdin"`
	Stdout      string           `json:"stdout"`
	Stderr      string           `json:"stderr"`
	ExtraFiles  []string         `json:"extra_files"`
	Sys         *map[string]bool `json:"sys"`
	Ctx         string           `json:"ctx"`
	CancelKind  string           `json:"cancel"`
	WaitDelayMs int              `json:"wait_delay_ms"`
	Calls       []string         `json:"calls"`
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

type errorWriter struct{}

func (errorWriter) Write(p []byte) (int, error) { return 0, errors.New("writer failed") }

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func openPipes() int {
	n := 0
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(link, "pipe:") {
			n++
		}
	}
	return n
}

func main() {
	var s scenario
	if err := json.NewDecoder(os.Stdin).Decode(&s); err != nil {
		fmt.Println("bad scenario:", err)
		os.Exit(2)
	}
	before := openPipes()
	var cmd *exec.Cmd
	cancelCtx := func() {}
	switch s.Ctx {
	case "":
		cmd = exec.Command(s.Args[0], s.Args[1:]...)
	case "background":
		cmd = exec.CommandContext(context.Background(), s.Args[0], s.Args[1:]...)
	case "cancelled":
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		cmd = exec.CommandContext(ctx, s.Args[0], s.Args[1:]...)
	case "cancellable":
		var ctx context.Context
		ctx, cancelCtx = context.WithCancel(context.Background())
		defer cancelCtx()
		cmd = exec.CommandContext(ctx, s.Args[0], s.Args[1:]...)
	}
	switch s.CancelKind {
	case "error":
		cmd.Cancel = func() error {
			cmd.Process.Kill()
			return errors.New("cancel failed")
		}
	case "noop":
		cmd.Cancel = func() error { return nil }
	}
	cmd.Dir = s.Dir
	if s.Env != nil {
		cmd.Env = s.Env
	}
	if s.Sys != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: (*s.Sys)["setpgid"], Setsid: (*s.Sys)["setsid"]}
	}
	cmd.WaitDelay = time.Duration(s.WaitDelayMs) * time.Millisecond
	buffers := map[string]*strings.Builder{}
	writer := func(name, kind string) io.Writer {
		switch kind {
		case "buffer":
			b := &strings.Builder{}
			buffers[name] = b
			return b
		case "short":
			return shortWriter{}
		case "error":
			return errorWriter{}
		case "devnull", "closed":
			f, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if kind == "closed" {
				f.Close()
			}
			return f
		}
		return nil
	}
	if strings.HasPrefix(s.Stdin, "reader:") {
		cmd.Stdin = strings.NewReader(strings.TrimPrefix(s.Stdin, "reader:"))
	} else if s.Stdin == "devnull" || s.Stdin == "closed" {
		f, _ := os.Open(os.DevNull)
		if s.Stdin == "closed" {
			f.Close()
		}
		cmd.Stdin = f
	}
	if w := writer("stdout", s.Stdout); w != nil {
		cmd.Stdout = w
	}
	if w := writer("stderr", s.Stderr); w != nil {
		cmd.Stderr = w
	}
	for _, kind := range s.ExtraFiles {
		var f *os.File
		if kind != "nil" {
			f, _ = os.Open(os.DevNull)
			if kind == "closed" {
				f.Close()
			}
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	var stdin io.WriteCloser
	var stdout, stderr io.ReadCloser
	for _, call := range s.Calls {
		name, arg, _ := strings.Cut(call, ":")
		var err error
		result := ""
		// A call on a pipe or process that does not exist (its making failed) would be
		// a nil dereference in Go: the transcript says so instead.
		missing := (strings.HasSuffix(name, "Stdin") || name == "Write") && stdin == nil ||
			(strings.HasSuffix(name, "Stdout") || strings.HasPrefix(name, "Read")) && stdout == nil ||
			name == "CloseStderr" && stderr == nil ||
			strings.HasPrefix(name, "Process") && cmd.Process == nil
		if missing {
			fmt.Printf("%s -> no such pipe or process\n", call)
			continue
		}
		switch name {
		case "Start":
			err = cmd.Start()
		case "Wait":
			err = cmd.Wait()
		case "Run":
			err = cmd.Run()
		case "Output", "CombinedOutput":
			var out []byte
			if name == "Output" {
				out, err = cmd.Output()
			} else {
				out, err = cmd.CombinedOutput()
			}
			result = strconv.Quote(string(out))
		case "String":
			result = strconv.Quote(cmd.String())
		case "Environ":
			result = strconv.Quote(strings.Join(cmd.Environ(), "\n"))
		case "StdinPipe":
			stdin, err = cmd.StdinPipe()
		case "StdoutPipe":
			stdout, err = cmd.StdoutPipe()
		case "StderrPipe":
			stderr, err = cmd.StderrPipe()
		case "Write":
			var n int
			n, err = stdin.Write([]byte(arg))
			result = strconv.Itoa(n)
		case "CloseStdin":
			err = stdin.Close()
		case "Read":
			size, _ := strconv.Atoi(arg)
			buf := make([]byte, size)
			var n int
			n, err = stdout.Read(buf)
			result = strconv.Quote(string(buf[:n]))
		case "ReadAll":
			var out []byte
			out, err = io.ReadAll(stdout)
			result = strconv.Quote(string(out))
		case "CloseStdout":
			err = stdout.Close()
		case "CloseStderr":
			err = stderr.Close()
		case "ProcessWait":
			var state *os.ProcessState
			state, err = cmd.Process.Wait()
			if state != nil {
				result = state.String()
			}
		case "ProcessKill":
			err = cmd.Process.Kill()
		case "Sleep":
			ms, _ := strconv.Atoi(arg)
			time.Sleep(time.Duration(ms) * time.Millisecond)
		case "Cancel":
			cancelCtx()
		default:
			fmt.Println("unknown call:", call)
			os.Exit(2)
		}
		if result != "" {
			fmt.Printf("%s -> %s, %s\n", call, result, errText(err))
		} else {
			fmt.Printf("%s -> %s\n", call, errText(err))
		}
	}
	for _, name := range []string{"stdout", "stderr"} {
		if b, ok := buffers[name]; ok {
			fmt.Printf("%s buffer: %s\n", name, strconv.Quote(b.String()))
		}
	}
	if cmd.ProcessState != nil {
		fmt.Printf("ProcessState: %s\n", cmd.ProcessState)
	}
	fmt.Printf("pipes left open: %d\n", openPipes()-before)
}
