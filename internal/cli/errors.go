package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/internal/input"
)

// Exit statuses: 2 for bad input (flags, files), 1 for a failure while running.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitBadInput    = 2
	ExitInterrupted = 130 // as a shell reports a SIGINT (SIGTERM: 143, Interrupted)
)

// usageError marks bad input: the CLI prints it on one line and exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return OneLine(e.err.Error()) }
func (e usageError) Unwrap() error { return e.err }

// Interrupted is a run stopped by SIGINT or SIGTERM: exit status
// 128 + the signal's number, as a shell reports it (130, 143).
type Interrupted struct {
	Msg    string
	Signal os.Signal
}

func (e Interrupted) Error() string { return e.Msg }

// ExitCode is 130 for SIGINT, 143 for SIGTERM.
func (e Interrupted) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted
}

// FlagError reports a bad value for --flag and what was expected.
func FlagError(flag, format string, args ...any) error {
	return usageError{fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...))}
}

// BadInput wraps any other input problem (a file, an argument) as a usage error.
func BadInput(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// ExitCode is the process exit status of a command's error: its own
// ExitCode, 2 for bad input, 130 for an interrupt, else 1.
func ExitCode(err error) int {
	var ue usageError
	var bad *input.Error
	var ie Interrupted
	var coded interface{ ExitCode() int }
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &coded):
		return coded.ExitCode()
	case errors.As(err, &ue) || errors.As(err, &bad) || isCobraUsageError(err):
		return ExitBadInput
	case errors.As(err, &ie):
		return ExitInterrupted
	}
	return ExitFailure
}

// FlagParseError rewrites pflag's own parse errors, for every command: a
// bad value says what the flag expects ("--rps: expected a number such as
// 200 or 1.5e3, got "abc"") instead of strconv's "invalid syntax".
func FlagParseError(_ *cobra.Command, err error) error {
	var invalid *pflag.InvalidValueError
	var missing *pflag.ValueRequiredError
	switch {
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		why := ""
		if errors.Is(err, strconv.ErrRange) {
			why = " (out of range)"
		}
		return FlagError(f.Name, "expected %s, got %q%s", Expected(f), invalid.GetValue(), why)
	case errors.As(err, &missing):
		return FlagError(missing.GetFlag().Name, "expected %s after the flag", Expected(missing.GetFlag()))
	}
	return usageError{err}
}

// Expected says what a flag's type takes, with an example.
func Expected(f *pflag.Flag) string {
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

// OneLine folds a multi-line message so every error is a single line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
