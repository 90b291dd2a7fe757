package cmd

import (
	"bytes"
	"strings"
	"testing"
)

// run executes the CLI in-process and returns its exit status and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// badInvocation is a command line that must fail as bad input.
type badInvocation struct {
	name string
	args []string
	// want are substrings of the one-line error: the flag and what was expected.
	want []string
}

// assertBadInput checks the bad-input contract: exit status 2, one line on
// stderr naming the flag and what was expected, nothing on stdout.
func assertBadInput(t *testing.T, tt badInvocation) {
	t.Helper()
	code, stdout, stderr := run(t, tt.args...)
	if code != exitBadInput {
		t.Errorf("exit status %d, want %d (stderr %q)", code, exitBadInput, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	if lines := strings.Count(strings.TrimRight(stderr, "\n"), "\n"); lines != 0 || stderr == "" {
		t.Errorf("stderr is not one line: %q", stderr)
	}
	for _, w := range tt.want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "proxysizer ") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ = run(t, "--help")
	if code != 0 || !strings.Contains(out, "plan") || !strings.Contains(out, "completion") {
		t.Errorf("--help lacks commands: %d %q", code, out)
	}
	code, out, _ = run(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: %d, %d bytes", code, len(out))
	}
}

func TestUnknownCommandIsBadInput(t *testing.T) {
	assertBadInput(t, badInvocation{args: []string{"plna"}, want: []string{"unknown command"}})
}
