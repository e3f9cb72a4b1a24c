// Command null exits at once: the cost of starting and ending a Go program,
// the baseline `make bench` subtracts from the Go launchers' times.
package main

func main() {}
