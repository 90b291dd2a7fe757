package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// ErrExists means the output directory already holds a sweep.
var ErrExists = errors.New("already holds a sweep")

// runner carries one sweep's state.
type runner struct {
	o       Options
	backend driver.Backend
	rec     *results.Sweep
	started time.Time
}

// Run runs (or resumes) a sweep and returns its record. When ctx is
// cancelled the step in flight is dropped, every finished step is on disk,
// the backend is stopped, and ctx's error is returned.
//
// A sweep that crashes leaves nothing stuck: a panic here marks the record
// failed before it goes on up (the caller's deferred Close then removes
// the backend's cgroups or annotations); a process that dies outright
// (SIGKILL, a panic in another goroutine) leaves its record "running" with
// its owner, which the next resume, or `proxysizer cleanup` through the
// registration, sees is gone (results.Sweep.Stale, results.RepairCrashed).
func Run(ctx context.Context, backend driver.Backend, o Options) (_ *results.Sweep, err error) {
	r := &runner{o: o, backend: backend, started: time.Now()}
	// Repair what killed sweeps left, as their cleanup would; a record
	// that cannot be repaired is another directory's problem, not this
	// sweep's.
	_, _ = results.RepairCrashed()
	if err := r.open(); err != nil {
		return nil, err
	}
	unregister, err := results.Register(o.OutDir)
	if err != nil {
		return nil, err
	}
	defer unregister()
	defer func() {
		if p := recover(); p != nil {
			r.rec.Status = results.SweepFailed
			r.save()
			panic(p)
		}
	}()
	err = r.run(ctx)
	switch {
	case ctx.Err() != nil:
		r.rec.Status = results.SweepInterrupted
		err = ctx.Err()
	case err != nil:
		r.rec.Status = results.SweepFailed
	default:
		r.rec.Status = results.SweepDone
	}
	if saveErr := r.save(); saveErr != nil {
		err = errors.Join(err, saveErr)
	}
	return r.rec, err
}

// open starts a new record, or loads the one to resume.
func (r *runner) open() error {
	// The directory's ownership was checked by Request.Options, before the
	// backend opened (the local lab has made lab/ there since); the record
	// is checked again, as another sweep may have started there.
	existing, err := r.o.existing(false)
	if err != nil {
		return err
	}
	if existing != nil {
		r.rec = existing
		r.rec.Status, r.rec.Owner = results.SweepRunning, results.CurrentOwner()
		return r.save()
	}
	proxy, env := r.backend.Describe()
	r.rec = &results.Sweep{
		SchemaVersion: results.SchemaVersion, Tool: r.o.Tool, Backend: r.o.Backend,
		Proxy: proxy, Environment: env, Options: r.o.record(),
		Status: results.SweepRunning, Owner: results.CurrentOwner(), StartedAt: r.started,
		Baseline: []results.Run{}, Searches: []results.Search{}, Steps: r.plan(),
	}
	return r.save()
}

// Files and subdirectories a sweep writes into its results directory,
// besides the report's: a new sweep needs a directory where each is absent
// or of its kind.
var (
	sweepFiles = []string{results.FileName}
	sweepDirs  = []string{"steps", "baseline", "lab"}
)

// existing is the sweep to resume (nil for a new one), or why the results
// directory cannot take this sweep: a new sweep needs a new or empty
// directory of ours (results.CheckOutputDir, with checkDir) without a sweep, a resumed
// one the sweep it continues, swept with the same options and not still
// running.
func (o Options) existing(checkDir bool) (*results.Sweep, error) {
	n := o.Names
	rec, err := results.Load(o.OutDir)
	if o.Resume {
		switch {
		case err != nil:
			return nil, n.Errorf(FieldResume, "%w", err)
		case rec.Status == results.SweepRunning && rec.Owner.Alive() && !rec.Owner.Self():
			return nil, n.Errorf(FieldResume, "%s is being swept by %s, which is still running: let it finish or stop it first", o.OutDir, describeOwner(rec))
		case !sameOptions(rec.Options, o.record()):
			return nil, n.Errorf(FieldResume, "%s was swept with other options: leave the grid and load options out (a resume reads them from its %s), or choose another %s", o.OutDir, results.FileName, FieldOutDir)
		}
		return rec, nil
	}
	switch {
	case err == nil && rec.Stale():
		return nil, n.Errorf(FieldOutDir, "%s %w, interrupted (%s is gone): continue it with %s, or choose another directory", o.OutDir, ErrExists, describeOwner(rec), FieldResume)
	case err == nil:
		return nil, n.Errorf(FieldOutDir, "%s %w: continue it with %s, or choose another directory", o.OutDir, ErrExists, FieldResume)
	case !errors.Is(err, results.ErrNoResults) && !errors.Is(err, os.ErrNotExist):
		return nil, n.Errorf(FieldOutDir, "%w", err)
	}
	if !checkDir {
		return nil, nil
	}
	if err := results.CheckOutputDir(o.OutDir, sweepFiles, sweepDirs); err != nil {
		return nil, n.Errorf(FieldOutDir, "%w", err)
	}
	return nil, nil
}

// sameOptions compares recorded options, a record from before --repeats
// counting as one repeat.
func sameOptions(a, b results.Options) bool {
	a.Repeats, b.Repeats = max(1, a.Repeats), max(1, b.Repeats)
	a.Arrival, b.Arrival = a.ArrivalProcess(), b.ArrivalProcess() // none recorded: uniform
	return reflect.DeepEqual(a, b)
}

// plan lists every step as pending, so sweep.json shows the whole grid.
func (r *runner) plan() []results.Step {
	var steps []results.Step
	for _, s := range r.o.Settings {
		for rep := 1; rep <= r.o.repeats(); rep++ {
			for _, rate := range r.o.Rates {
				st := results.Step{Index: len(steps), Setting: s, Status: results.StatusPending}
				if r.o.repeats() > 1 {
					st.Repeat = rep
				}
				if r.o.Fractions {
					st.RateFraction = rate
				} else {
					st.RequestedRPS = rate
				}
				steps = append(steps, st)
			}
		}
	}
	return steps
}

func (r *runner) save() error {
	r.rec.UpdatedAt = time.Now()
	return results.Save(r.o.OutDir, r.rec)
}

func (r *runner) run(ctx context.Context) error {
	for _, s := range r.o.Settings {
		if err := r.runSetting(ctx, s); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// runSetting brings the proxy up at s, searches and measures what is left
// to do there, and always stops it again.
func (r *runner) runSetting(ctx context.Context, s results.Setting) error {
	pending := r.pendingSteps(s)
	needSearch := r.o.FindMax && r.search(s) == nil
	if len(pending) == 0 && !needSearch {
		return nil
	}
	r.println(fmt.Sprintf("setting: %s", s))
	if err := r.backend.Start(ctx, s); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		r.println(fmt.Sprintf("  %s failed to start: %v", s, err))
		for _, i := range pending {
			r.fail(i, fmt.Sprintf("proxy did not start: %v", err))
		}
		return r.save()
	}
	defer r.backend.Stop(context.WithoutCancel(ctx))
	if needSearch {
		if err := r.runSearch(ctx, s); err != nil || ctx.Err() != nil {
			return err
		}
	}
	for _, i := range pending {
		if err := r.runStep(ctx, i); err != nil || ctx.Err() != nil {
			return err
		}
	}
	return nil
}

func (r *runner) pendingSteps(s results.Setting) []int {
	var out []int
	for i, st := range r.rec.Steps {
		if !st.Done() && st.Concurrency == s.Concurrency && st.CPULimitMillicores == s.CPULimitMillicores {
			out = append(out, i)
		}
	}
	return out
}

func (r *runner) search(s results.Setting) *results.Search {
	for i := range r.rec.Searches {
		if r.rec.Searches[i].Concurrency == s.Concurrency && r.rec.Searches[i].CPULimitMillicores == s.CPULimitMillicores {
			return &r.rec.Searches[i]
		}
	}
	return nil
}

func (r *runner) fail(i int, reason string) {
	r.rec.Steps[i].Status, r.rec.Steps[i].Reason = results.StatusFailed, reason
}

// runStep measures one pending step and saves the record.
func (r *runner) runStep(ctx context.Context, i int) error {
	st := &r.rec.Steps[i]
	if r.o.Fractions {
		found := r.search(st.Setting)
		if found == nil || found.MaxRPS <= 0 {
			r.fail(i, "the search found no rate that meets the SLO, so there is no maximum to take a fraction of")
			return r.save()
		}
		st.RequestedRPS = st.RateFraction * found.MaxRPS
	}
	spec := r.spec(st.RequestedRPS, fmt.Sprintf("step %d/%d %s %.0f rps %s", r.done()+1, len(r.rec.Steps), stepSetting(*st), st.RequestedRPS, r.eta()))
	if err := r.ensureBaseline(ctx, st.RequestedRPS); err != nil {
		return err
	}
	m, err := r.backend.Measure(ctx, spec)
	if ctx.Err() != nil {
		return nil // interrupted: the step stays pending
	}
	if err != nil {
		r.fail(i, err.Error())
		r.println(fmt.Sprintf("  step %d failed: %v", i, err))
		return r.save()
	}
	fill(st, m, r.rec.Baseline, r.o.configuredPerInbound())
	if err := r.writeStepFiles(st, m.Load); err != nil {
		return err
	}
	r.println("  " + stepLine(*st))
	return r.save()
}

func (r *runner) spec(rps float64, prefix string) driver.LoadSpec {
	spec := r.o.Load
	spec.RPS = rps
	spec.Labels = prefix
	if r.o.Printer != nil {
		r.o.Printer.SetPrefix(prefix + "  ")
		spec.Progress = r.o.Printer.Update
	}
	return spec
}

func stepSetting(st results.Step) string {
	return st.Key()
}

func (r *runner) done() int {
	n := 0
	for _, st := range r.rec.Steps {
		if st.Done() {
			n++
		}
	}
	return n
}

// eta estimates the time left from the steps and searches still to run.
func (r *runner) eta() string {
	per := r.o.Load.Duration + r.o.Load.Warmup + time.Second
	left := time.Duration(len(r.rec.Steps)-r.done()) * per
	if r.o.FindMax {
		const typicalSearchSteps = 10
		searchPer := per
		if r.o.SearchDuration > 0 {
			searchPer = r.o.SearchDuration + r.o.Load.Warmup + time.Second
		}
		left += time.Duration((len(r.o.Settings)-len(r.rec.Searches))*typicalSearchSteps) * searchPer
	}
	return fmt.Sprintf("~%s left", left.Round(time.Second))
}

func (r *runner) println(text string) {
	if r.o.Printer != nil {
		r.o.Printer.Println(text)
	}
}

// writeStepFiles writes the step's JSON and fortio's result beside it.
func (r *runner) writeStepFiles(st *results.Step, res *loadgen.Result) error {
	base := fmt.Sprintf("%03d-%s-%.0frps", st.Index, stepSetting(*st), st.RequestedRPS)
	st.File = filepath.Join("steps", base+".json")
	st.FortioFile = filepath.Join("steps", base+".fortio.json")
	fortio, err := res.FortioJSON()
	if err != nil {
		return err
	}
	if err := results.WriteRunFile(r.o.OutDir, st.FortioFile, fortio); err != nil {
		return err
	}
	return results.WriteRunJSON(r.o.OutDir, st.File, st)
}
