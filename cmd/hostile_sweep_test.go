package cmd

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/results"
)

// liveOwner is a running process other than this one, as a sweep's owner.
func liveOwner(t *testing.T) *results.Owner {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	o := results.CurrentOwner()
	o.PID = cmd.Process.Pid
	data, err := os.ReadFile("/proc/" + strconv.Itoa(o.PID) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if o.StartTicks, err = strconv.ParseInt(fields[19], 10, 64); err != nil {
		t.Fatal(err)
	}
	if !o.Alive() {
		t.Fatal("the sleeping child does not count as alive")
	}
	return o
}

// deadOwner is a process that ran and exited.
func deadOwner(t *testing.T) *results.Owner {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	o := results.CurrentOwner()
	o.PID, o.StartTicks = cmd.Process.Pid, 1
	if o.Alive() {
		t.Fatal("an exited process counts as alive")
	}
	return o
}

// Class: resume. `sweep --resume --out DIR` takes the options DIR's
// sweep.json recorded; a flag given again that disagrees is named, all of
// them in one line; a directory that cannot be resumed is named. Nothing
// is written into DIR (no lab/) when the resume is refused.
func TestHostileResume(t *testing.T) {
	base := t.TempDir()
	recorded := copyResults(t, filepath.Join(base, "recorded"))
	empty := filepath.Join(base, "empty")
	mkdirs(t, empty)
	garbage := filepath.Join(base, "garbage")
	writeFiles(t, map[string]string{filepath.Join(garbage, results.FileName): `{"schema_version": 1, "steps": [`})
	newer := filepath.Join(base, "newer")
	writeFiles(t, map[string]string{filepath.Join(newer, results.FileName): `{"schema_version": 99}`})
	running := copyResults(t, filepath.Join(base, "running"))
	live := liveOwner(t)
	editSweep(t, running, func(m map[string]any) {
		m["status"] = results.SweepRunning
		m["owner"] = map[string]any{"pid": live.PID, "start_ticks": live.StartTicks, "boot_id": live.BootID, "host": live.Host}
	})
	crashed := copyResults(t, filepath.Join(base, "crashed"))
	dead := deadOwner(t)
	editSweep(t, crashed, func(m map[string]any) {
		m["status"] = results.SweepRunning
		m["owner"] = map[string]any{"pid": dead.PID, "start_ticks": dead.StartTicks, "boot_id": dead.BootID, "host": dead.Host}
	})
	kube := copyResults(t, filepath.Join(base, "kube"))
	editSweep(t, kube, func(m map[string]any) {
		m["backend"] = "kubernetes"
		m["environment"].(map[string]any)["cluster"] = map[string]any{"namespace": "shop", "deployment": "web"}
	})
	resume := func(dir string, more ...string) []string {
		return append([]string{"sweep", "--resume", "--out", dir}, more...)
	}
	cases := []hostile{
		{name: "--resume without --out", args: []string{"sweep", "--resume"}, want: []string{"--resume: needs --out"}},
		{name: "--resume on a missing directory", args: resume(filepath.Join(base, "missing")), want: []string{"--resume", "missing", "no such file or directory"}},
		{name: "--resume on an empty directory", args: resume(empty), want: []string{"--resume", "no sweep.json", "not a proxysizer results directory"}},
		{name: "--resume on a torn sweep.json", args: resume(garbage), want: []string{"--resume", "sweep.json", "not valid JSON"}},
		{name: "--resume on a newer schema", args: resume(newer), want: []string{"--resume", "schema_version 99 is newer"}},
		{name: "--resume with three conflicting flags", args: resume(recorded, "--concurrency", "4", "--rates", "100,200", "--duration", "10s"),
			want: []string{"--resume: " + recorded + " was swept with --concurrency 1,2, --rates 200,400,600, --duration 2s: leave out --concurrency 4, --rates 100,200, --duration 10s", "another --out"}},
		{name: "--resume with another grid of limits", args: resume(recorded, "--cpu-limit", "500m,2"), want: []string{"--cpu-limit 500m,1", "leave out --cpu-limit 500m,2"}},
		{name: "--resume with --find-max", args: resume(recorded, "--find-max", "--rates", "0.5"), want: []string{"--find-max false", "--find-max true"}},
		{name: "--resume on another backend", args: resume(recorded, "--backend", "kubernetes"), want: []string{"--backend local", "leave out --backend kubernetes"}},
		{name: "--resume with another proxy", args: resume(recorded, "--proxy", "nginx"), want: []string{"--proxy", "measured haproxy", "leave --proxy out"}},
		{name: "--resume of a cluster sweep on another Deployment", args: resume(kube, "--deployment", "api", "--target", "http://api/"), want: []string{"--deployment", "measured shop/web"}},
		{name: "--resume of a sweep still running", args: resume(running), want: []string{"--resume", "is being swept by process " + strconv.Itoa(live.PID), "still running"}},
		{name: "a new sweep into a crashed one", args: []string{"sweep", "--out", crashed}, want: []string{"--out", "already holds a sweep, interrupted (process " + strconv.Itoa(dead.PID) + " is gone)", "--resume"}},
	}
	for i := range cases {
		cases[i].trees = []string{base}
	}
	runHostile(t, cases)
}

// `proxysizer cleanup` repairs what a killed sweep left in its results
// directory: its sweep.json said "running" for a process that is gone.
func TestCleanupRepairsACrashedSweep(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // a registry and state files of this test's own
	crashed := copyResults(t, filepath.Join(t.TempDir(), "crashed"))
	dead := deadOwner(t)
	editSweep(t, crashed, func(m map[string]any) {
		m["status"] = results.SweepRunning
		m["owner"] = map[string]any{"pid": dead.PID, "start_ticks": dead.StartTicks, "boot_id": dead.BootID, "host": dead.Host}
	})
	mkdirs(t, results.RegistryDir())
	writeFiles(t, map[string]string{filepath.Join(results.RegistryDir(), "1-1.json"): `{"owner": {"pid": ` + strconv.Itoa(dead.PID) + `, "start_ticks": 1}, "dir": "` + crashed + `"}`})
	if rec, _ := results.Load(crashed); !rec.Stale() {
		t.Fatal("the crashed sweep does not read as stale")
	}
	code, stdout, stderr := run(t, "cleanup")
	if code != 0 || !strings.Contains(stdout, "marked the sweep in "+crashed+" interrupted: its process "+strconv.Itoa(dead.PID)+" is gone") {
		t.Fatalf("cleanup: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	rec, err := results.Load(crashed)
	if err != nil || rec.Status != results.SweepInterrupted {
		t.Fatalf("after cleanup: %v, status %v", err, rec.Status)
	}
	if left, _ := filepath.Glob(filepath.Join(results.RegistryDir(), "*.json")); len(left) != 0 {
		t.Errorf("the registration outlived the repair: %v", left)
	}
	// A second cleanup has nothing left to do.
	if _, stdout, _ := run(t, "cleanup"); strings.Contains(stdout, "marked the sweep") {
		t.Errorf("the second cleanup repaired again: %q", stdout)
	}
}

// A panic is a bug: it exits 1 with one line first, after the command's
// deferred clean-up ran (a sweep's Close restores what its backend changed).
func TestPanicExitsOneAfterCleanUp(t *testing.T) {
	cleaned := false
	subcommands = append(subcommands, func() *cobra.Command {
		return &cobra.Command{Use: "test-panic", Hidden: true, RunE: func(*cobra.Command, []string) error {
			defer func() { cleaned = true }()
			panic("boom\nsecond line")
		}}
	})
	defer func() { subcommands = subcommands[:len(subcommands)-1] }()
	start := time.Now()
	code, stdout, stderr := run(t, "test-panic")
	if code != exitFailure || stdout != "" || !cleaned {
		t.Errorf("exit %d, stdout %q, clean-up ran: %v", code, stdout, cleaned)
	}
	if first, _, _ := strings.Cut(stderr, "\n"); first != "proxysizer: internal error: boom second line (a bug: please report it with the stack below)" {
		t.Errorf("first line of stderr: %q", first)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("slow")
	}
}

// A load run in which every call failed exits 1, after its figures are
// printed and saved; the summary says it was not interrupted.
func TestLoadEveryCallFailedExitsOne(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "run")
	for _, args := range [][]string{
		{"load", srv.URL + "/", "--qps", "50", "--duration", "400ms", "--warmup", "0s", "--connections", "1", "--no-progress", "--out", out},
		{"load", srv.URL + "/", "--find-max", "--start-qps", "50", "--max-qps", "60", "--duration", "300ms", "--warmup", "0s", "--connections", "1", "--max-steps", "2", "--fail-retries", "0", "--no-progress", "--out", out},
	} {
		code, stdout, stderr := run(t, args...)
		if code != exitFailure || !strings.Contains(stderr, "every call failed") || stdout == "" {
			t.Errorf("%v: exit %d, stderr %q, %d bytes of stdout; want 1, the figures printed", args[2:4], code, stderr, len(stdout))
		}
		var summary map[string]any
		data, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil || json.Unmarshal(data, &summary) != nil || summary["interrupted"] != false {
			t.Errorf("%v: summary.json %v %s", args[2:4], err, headLines(string(data), 5))
		}
		if _, err := os.Stat(filepath.Join(out, results.MarkerFile)); err != nil {
			t.Errorf("--out not marked as proxysizer's: %v", err)
		}
	}
}

func TestInterruptedExitCodes(t *testing.T) {
	for sig, want := range map[os.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143, nil: 130} {
		if got := (interruptedError{"x", sig}).ExitCode(); got != want {
			t.Errorf("%v: exit %d, want %d", sig, got, want)
		}
	}
}
