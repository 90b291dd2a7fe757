package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/results"
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

// A results directory that cannot take the sweep is bad input found before
// the lab starts: nothing is written into it.
func TestSweepIntoAnotherSweepTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "fit", "testdata", "haproxy", results.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.FileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	assertBadInput(t, badInvocation{args: []string{"sweep", "--out", dir}, want: []string{"--out: " + dir + " already holds a sweep", "--resume"}})
	assertBadInput(t, badInvocation{args: []string{"sweep", "--out", dir, "--resume", "--concurrency", "1,4", "--rates", "100", "--duration", "10s"},
		want: []string{"--resume: " + dir + " was swept with --concurrency 1,2, --rates 400,550,700,850, --duration 8s: leave out --concurrency 1,4, --rates 100, --duration 10s", "another --out"}})
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the results directory holds %d entries after the refused sweeps, want only its sweep.json", len(entries))
	}
	if after, _ := os.ReadFile(filepath.Join(dir, results.FileName)); string(after) != string(data) {
		t.Error("sweep.json changed")
	}
}
