package cli

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/proxysizer/proxysizer/internal/input"
)

func TestExitCodeSortsErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"none", nil, ExitOK},
		{"a flag", FlagError("rps", "expected a number, got %q", "x"), ExitBadInput},
		{"a file, wrapped", fmt.Errorf("reading: %w", BadInput("no such file")), ExitBadInput},
		{"a library's input", input.Names{}.Errorf("rates", "expected rates > 0"), ExitBadInput},
		{"cobra's own", errors.New("unknown flag: --rsp"), ExitBadInput},
		{"SIGTERM", Interrupted{"interrupted", syscall.SIGTERM}, 143},
		{"SIGINT", Interrupted{"interrupted", syscall.SIGINT}, 130},
		{"a failure", errors.New("connection refused"), ExitFailure},
	} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestUsageErrorsAreOneLine(t *testing.T) {
	err := BadInput("results directory %s:\n  no sweep.json", "out/x")
	if got, want := err.Error(), "results directory out/x: no sweep.json"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := FlagError("duration", "expected %s, got %v", "a duration > 0", -1).Error(), "--duration: expected a duration > 0, got -1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
