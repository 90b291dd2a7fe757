package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/fsguard"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/results"
)

// panicking is a backend whose Measure panics on its second call.
type panicking struct{ *standIn }

func (b panicking) Measure(ctx context.Context, spec driver.LoadSpec) (*driver.Measurement, error) {
	if b.measures == 1 {
		panic("the backend's bug")
	}
	return b.standIn.Measure(ctx, spec)
}

// A sweep that panics leaves its record failed, not "running", with the
// steps finished before it, and no registration behind; the panic goes on
// up (the command's deferred Close cleans the backend).
func TestPanicMarksTheSweepFailed(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir := t.TempDir()
	func() {
		defer func() {
			if p := recover(); p != "the backend's bug" {
				t.Errorf("recovered %v, want the backend's panic", p)
			}
		}()
		Run(context.Background(), panicking{newStandIn(t)}, options(dir))
		t.Error("Run returned")
	}()
	rec, err := results.Load(dir)
	if err != nil || rec.Status != results.SweepFailed || !rec.Steps[0].Done() || rec.Steps[1].Done() {
		t.Fatalf("after the panic: %v, status %s", err, rec.Status)
	}
	if left, _ := filepath.Glob(filepath.Join(results.RegistryDir(), "*.json")); len(left) != 0 {
		t.Errorf("registration left: %v", left)
	}
}

// While a sweep runs, its record names this process as its owner and its
// directory is registered: what a SIGKILL leaves is found and judged.
func TestRunningSweepIsOwnedAndRegistered(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir := t.TempDir()
	b := newStandIn(t)
	seen := false
	b.onMeasure = func() {
		rec, err := results.Load(dir)
		regs, _ := filepath.Glob(filepath.Join(results.RegistryDir(), "*.json"))
		seen = err == nil && rec.Status == results.SweepRunning && rec.Owner.Self() && !rec.Stale() && len(regs) == 1
	}
	if _, err := Run(context.Background(), b, options(dir)); err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Error("no running record owned by this process, or no registration, during the sweep")
	}
	if regs, _ := filepath.Glob(filepath.Join(results.RegistryDir(), "*.json")); len(regs) != 0 {
		t.Errorf("registration left after the sweep: %v", regs)
	}
}

// A resume takes the recorded options; fields given again that agree
// (500m spelled 0.5) are no conflict; the search's bounds, not recorded,
// are taken as given.
func TestResumeReadsTheRecordedOptions(t *testing.T) {
	dir := t.TempDir()
	r := DefaultRequest()
	r.Concurrency, r.CPULimits, r.Rates, r.Repeats = []int{1, 2}, []string{"500m", "none"}, []float64{100, 200}, 2
	r.Duration, r.Warmup, r.Connections, r.OutboundPerRequest, r.OutDir = 1500*time.Millisecond, 300*time.Millisecond, "3", 2, dir
	first, err := r.Options(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := results.Save(dir, &results.Sweep{SchemaVersion: results.SchemaVersion, Backend: "local", Options: first.record(), Status: results.SweepInterrupted}); err != nil {
		t.Fatal(err)
	}
	again := DefaultRequest()
	again.Resume, again.OutDir, again.SearchMaxSteps = true, dir, 7
	again.CPULimits, again.Given = []string{"0.5", "none"}, map[input.Field]bool{driver.FieldCPULimits: true, FieldSearchMaxSteps: true}
	o, err := again.Options(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.record(), first.record()) || o.Search.MaxSteps != 7 || o.Resumed == nil || o.Backend != "local" {
		t.Errorf("resumed options %+v (search %+v), want the recorded %+v", o.record(), o.Search, first.record())
	}
}

// A sweep writes only inside its results directory: a link someone
// planted there (a step directory pointing elsewhere) fails the sweep
// instead of turning its writes, as root, into writes elsewhere.
func TestWritesStayInsideTheResultsDirectory(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	base := t.TempDir()
	dir, outside := filepath.Join(base, "results"), filepath.Join(base, "outside")
	os.MkdirAll(dir, 0o755)
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "keep"), []byte("keep me"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "steps"))
	before := fsguard.Snap(t, outside)
	rec, err := Run(context.Background(), newStandIn(t), options(dir))
	if !errors.Is(err, safefile.ErrOutside) || rec.Status != results.SweepFailed {
		t.Errorf("Run = %v (status %s), want the step files refused outside the directory", err, rec.Status)
	}
	before.AssertUnchanged(t)
}
