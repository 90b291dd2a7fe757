//go:build integration

package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/results"
)

// SIGINT and SIGTERM end a load run at once with 130 and 143, as a shell
// reports them, after printing the figures so far and saving them in
// --out with summary.json saying the run was interrupted.
func TestLoadSignalsExit130And143(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		out := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(proxysizer(t), "load", srv.URL+"/", "--qps", "100", "--duration", "60s", "--warmup", "0s", "--no-progress", "--out", out)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // well into the run
		start := time.Now()
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: still running 15 s after the signal", sig)
		}
		if code := cmd.ProcessState.ExitCode(); code != want {
			t.Errorf("%v: exit %d, want %d (stderr %q)", sig, code, want, stderr.String())
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%v: took %v to stop", sig, took)
		}
		if !strings.Contains(stdout.String(), "latency") || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("%v: no figures or no word of the interruption: stdout %q, stderr %q", sig, stdout.String(), stderr.String())
		}
		var summary map[string]any
		data, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil || json.Unmarshal(data, &summary) != nil || summary["interrupted"] != true {
			t.Errorf("%v: summary.json does not say interrupted: %v %.200s", sig, err, data)
		}
	}
}

// SIGTERM stops a sweep as SIGINT does, with status 143.
func TestSIGTERMStopsASweepWith143(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	cmd := startSweep(t, out)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Fatalf("exit after SIGTERM: %v, want status 143", err)
	}
	if rec := sweeptest.Load(t, out); rec.Status != results.SweepInterrupted {
		t.Errorf("after SIGTERM the record says %s", rec.Status)
	}
	if left := leftovers(t, out); len(left) > 0 {
		t.Errorf("SIGTERM left behind: %v", left)
	}
}
