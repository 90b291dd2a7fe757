package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usageError marks bad input: the CLI prints it on one line and exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return oneLine(e.err.Error()) }
func (e usageError) Unwrap() error { return e.err }

// interruptedError is a run stopped by SIGINT or SIGTERM: exit status
// 128 + the signal's number, as a shell reports it (130, 143).
type interruptedError struct {
	msg    string
	signal os.Signal
}

func (e interruptedError) Error() string { return e.msg }

// ExitCode is 130 for SIGINT, 143 for SIGTERM.
func (e interruptedError) ExitCode() int {
	if s, ok := e.signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitInterrupted
}

// signalContext is parent, cancelled at the first SIGINT or SIGTERM;
// received says which signal it was (nil before one).
func signalContext(parent context.Context) (ctx context.Context, stop func(), received func() os.Signal) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	var got os.Signal
	go func() {
		select {
		case s := <-ch:
			mu.Lock()
			got = s
			mu.Unlock()
			cancel()
		case <-ctx.Done():
		}
	}()
	stop = func() { signal.Stop(ch); cancel() }
	received = func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	return ctx, stop, received
}

// flagError reports a bad value for --flag and what was expected.
func flagError(flag, format string, args ...any) error {
	return usageError{fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...))}
}

// badInput wraps any other input problem (a file, an argument) as a usage error.
func badInput(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// flagParseError rewrites pflag's own parse errors, for every command: a
// bad value says what the flag expects ("--rps: expected a number such as
// 200 or 1.5e3, got "abc"") instead of strconv's "invalid syntax".
func flagParseError(_ *cobra.Command, err error) error {
	var invalid *pflag.InvalidValueError
	var missing *pflag.ValueRequiredError
	switch {
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		why := ""
		if errors.Is(err, strconv.ErrRange) {
			why = " (out of range)"
		}
		return flagError(f.Name, "expected %s, got %q%s", expected(f), invalid.GetValue(), why)
	case errors.As(err, &missing):
		return flagError(missing.GetFlag().Name, "expected %s after the flag", expected(missing.GetFlag()))
	}
	return usageError{err}
}

// expected says what a flag's type takes, with an example.
func expected(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "float64", "float32":
		return "a number such as 200 or 1.5e3"
	case "int", "int64", "int32", "int16", "int8":
		return "an integer such as 8"
	case "uint", "uint64", "uint32", "uint16", "uint8":
		return "a non-negative integer such as 8"
	case "intSlice", "int32Slice", "int64Slice", "uintSlice":
		return "comma-separated integers such as 1,2,4"
	case "float64Slice", "float32Slice":
		return "comma-separated numbers such as 200,400,800"
	case "duration":
		return "a duration such as 500ms, 30s or 5m"
	case "durationSlice":
		return "comma-separated durations such as 1s,5s"
	case "bool":
		return "true or false (or the flag alone)"
	case "stringSlice", "stringArray":
		return "comma-separated values"
	case "string":
		return "a value"
	}
	return "a " + f.Value.Type()
}

// isCobraUsageError recognises the errors cobra returns itself for unknown
// commands and wrong argument counts, which are bad input too.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// oneLine folds a multi-line message so every error is a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
