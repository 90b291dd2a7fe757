//go:build integration

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/internal/testenv"
	"github.com/proxysizer/proxysizer/results"
)

func sweepArgs(out string) []string {
	return []string{"sweep", "--proxy", "haproxy", "--concurrency", "1", "--cpu-limit", "500m,1",
		"--rates", "200,400", "--outbound-per-request", "2", "--duration", "2s", "--warmup", "500ms",
		"--connections", "4", "--no-progress", "--out", out}
}

// startSweep starts a sweep and waits until its first step is on disk.
func startSweep(t *testing.T, out string) *exec.Cmd {
	t.Helper()
	testenv.RequireBinary(t, "haproxy", "apt-get install haproxy")
	cmd := exec.Command(proxysizer(t), sweepArgs(out)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if files, _ := filepath.Glob(filepath.Join(out, "steps", "*-c1-l500m-200rps.json")); len(files) == 1 {
			// The detector must see the running sweep, or its silence later
			// would prove nothing.
			left := leftovers(t, out)
			if len(processesOnly(left)) == 0 || len(left) == len(processesOnly(left)) {
				cmd.Process.Kill()
				t.Fatalf("a running sweep shows no cgroup or no process: %v", left)
			}
			return cmd
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatal("the sweep wrote no step within 60 s")
	return nil
}

func doneSteps(rec *results.Sweep) int {
	n := 0
	for _, s := range rec.Steps {
		if s.Done() {
			n++
		}
	}
	return n
}

// resumeAndCheck resumes the sweep in out with args (none: all of the
// sweep's flags again) and checks it finished without redoing a step.
func resumeAndCheck(t *testing.T, out string, firstStep []byte, args ...string) {
	t.Helper()
	if len(args) == 0 {
		args = append(sweepArgs(out), "--resume")
	}
	code, stdout, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("--resume: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rec := sweeptest.Load(t, out)
	if rec.Status != results.SweepDone || doneSteps(rec) != len(rec.Steps) {
		t.Fatalf("after --resume: status %s, %d of %d steps done", rec.Status, doneSteps(rec), len(rec.Steps))
	}
	again, _ := os.ReadFile(filepath.Join(out, rec.Steps[0].File))
	if string(again) != string(firstStep) {
		t.Error("--resume rewrote the step finished before the interruption")
	}
	if !strings.Contains(stdout, "Recommendation for") {
		t.Errorf("no recommendation at the end:\n%s", stdout)
	}
	if left := leftovers(t, out); len(left) > 0 {
		t.Errorf("left behind after --resume: %v", left)
	}
}

func TestSIGINTLeavesNothingBehindAndResumes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	cmd := startSweep(t, out)
	first, _ := os.ReadFile(filepath.Join(out, "steps", "000-c1-l500m-200rps.json"))
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit after SIGINT: %v, want status 130", err)
	}
	rec := sweeptest.Load(t, out)
	if rec.Status != results.SweepInterrupted || doneSteps(rec) < 1 {
		t.Fatalf("after SIGINT: status %s, %d steps done", rec.Status, doneSteps(rec))
	}
	if left := leftovers(t, out); len(left) > 0 {
		t.Fatalf("SIGINT left behind: %v", left)
	}
	resumeAndCheck(t, out, first)
}

func TestSIGKILLThenCleanupAndResume(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	cmd := startSweep(t, out)
	first, _ := os.ReadFile(filepath.Join(out, "steps", "000-c1-l500m-200rps.json"))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The proxy and the lab app die with their parent (parent-death signal);
	// the empty cgroups stay until cleanup.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && len(processesOnly(leftovers(t, out))) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	if procs := processesOnly(leftovers(t, out)); len(procs) > 0 {
		t.Fatalf("processes outlived the killed sweep: %v", procs)
	}
	// Its record still says running, for a process that is gone.
	if rec := sweeptest.Load(t, out); rec.Status != results.SweepRunning || !rec.Stale() {
		t.Fatalf("after SIGKILL: status %s, stale %v; want a stale running record", rec.Status, rec.Stale())
	}
	code, stdout, stderr := run(t, "cleanup")
	if code != 0 {
		t.Fatalf("cleanup: exit %d: %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "removed cgroup proxysizer-") {
		t.Errorf("cleanup removed no cgroup of the killed sweep:\n%s", stdout)
	}
	if !strings.Contains(stdout, "marked the sweep in "+out+" interrupted") {
		t.Errorf("cleanup did not repair the killed sweep's record:\n%s", stdout)
	}
	if rec := sweeptest.Load(t, out); rec.Status != results.SweepInterrupted {
		t.Errorf("after cleanup the record says %s, want interrupted", rec.Status)
	}
	if left := leftovers(t, out); len(left) > 0 {
		t.Fatalf("left behind after cleanup: %v", left)
	}
	var rec results.Sweep
	data, _ := os.ReadFile(filepath.Join(out, results.FileName))
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatalf("sweep.json torn by SIGKILL: %v", err)
	}
	resumeAndCheck(t, out, first)
}

// Without cleanup, the next run repairs both: the resume removes the dead
// sweep's cgroups as it starts and takes over its stale record, reading
// the options from it (no flag but --resume --out).
func TestSIGKILLThenResumeRepairs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	cmd := startSweep(t, out)
	first, _ := os.ReadFile(filepath.Join(out, "steps", "000-c1-l500m-200rps.json"))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if rec := sweeptest.Load(t, out); !rec.Stale() {
		t.Fatalf("after SIGKILL: status %s, not stale", rec.Status)
	}
	resumeAndCheck(t, out, first, "sweep", "--resume", "--out", out, "--no-progress")
}

func processesOnly(found []string) []string {
	var out []string
	for _, f := range found {
		if strings.HasPrefix(f, "/proc/") {
			out = append(out, f)
		}
	}
	return out
}
