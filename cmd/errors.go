package cmd

import (
	"fmt"
	"strings"
)

// usageError marks bad input: the CLI prints it on one line and exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return oneLine(e.err.Error()) }
func (e usageError) Unwrap() error { return e.err }

// interruptedError is a run stopped by SIGINT or SIGTERM: exit status 130.
type interruptedError struct{ msg string }

func (e interruptedError) Error() string { return e.msg }

// flagError reports a bad value for --flag and what was expected.
func flagError(flag, format string, args ...any) error {
	return usageError{fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...))}
}

// badInput wraps any other input problem (a file, an argument) as a usage error.
func badInput(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
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
