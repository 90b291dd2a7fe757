package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// standIn is a backend whose load runs are real loadgen runs against an
// in-process HTTP server, and whose proxy figures follow from the run: 3
// requests per inbound, 0.1 ms of CPU per request.
type standIn struct {
	url       string
	starts    []results.Setting
	measures  int
	failStart map[results.Setting]bool
	// cancelAt cancels the sweep's context during this Measure call.
	cancelAt int
	cancel   context.CancelFunc
	// onMeasure, when set, runs at each Measure.
	onMeasure func()
}

func newStandIn(t *testing.T) *standIn {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	return &standIn{url: srv.URL + "/", failStart: map[results.Setting]bool{}}
}

func (b *standIn) Describe() (results.Proxy, results.Environment) {
	return results.Proxy{Name: "stand-in"}, results.Environment{Cores: 2, CgroupVersion: "none"}
}

func (b *standIn) Start(_ context.Context, s results.Setting) error {
	b.starts = append(b.starts, s)
	if b.failStart[s] {
		return errors.New("config rejected")
	}
	return nil
}

func (b *standIn) Measure(ctx context.Context, spec driver.LoadSpec) (*driver.Measurement, error) {
	b.measures++
	if b.onMeasure != nil {
		b.onMeasure()
	}
	if b.measures == b.cancelAt {
		b.cancel()
	}
	start := time.Now()
	res, err := loadgen.Run(ctx, spec.Options(b.url))
	if err != nil {
		return nil, err
	}
	inbound := res.Summary.Requests
	return &driver.Measurement{Load: res, Wall: time.Since(start), ProxyRequests: 3 * inbound, InboundRequests: inbound,
		ProxyCPUSeconds: 3 * float64(inbound) * 1e-4, HasThrottling: true, Periods: 10, ThrottledPeriods: 1,
		MemoryWorkingSetBytes: 5 << 20, Sources: map[string]string{"cpu": "stand-in"}}, nil
}

func (b *standIn) Baseline(ctx context.Context, spec driver.LoadSpec) (*loadgen.Result, error) {
	return loadgen.Run(ctx, spec.Options(b.url))
}

func (b *standIn) Stop(context.Context) error { return nil }
func (b *standIn) Close() error               { return nil }

func options(dir string) Options {
	return Options{
		Settings: Grid([]int{1, 2}, []int64{500, 0}),
		Rates:    []float64{100, 200},
		Load:     driver.LoadSpec{Duration: 300 * time.Millisecond, Connections: 2, Protocol: loadgen.HTTP1},
		OutDir:   dir, Backend: "local", OutboundPerRequest: 2,
	}
}

func TestRunMeasuresEveryStepAndWritesFiles(t *testing.T) {
	dir := t.TempDir()
	b := newStandIn(t)
	rec, err := Run(context.Background(), b, options(dir))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != results.SweepDone || len(rec.Steps) != 8 || len(b.starts) != 4 {
		t.Fatalf("status %s, %d steps, %d starts", rec.Status, len(rec.Steps), len(b.starts))
	}
	for _, st := range rec.Steps {
		if st.Status != results.StatusOK {
			t.Errorf("step %d: %s %s", st.Index, st.Status, st.Reason)
		}
		// 0.3 ms of CPU per inbound request, so 0.1 s per 1000 proxied requests.
		if st.ProxyRequestsPerInbound != 3 || st.ProxyCPUSecondsPer1kRequests < 0.0999 || st.ProxyCPUSecondsPer1kRequests > 0.1001 || st.ThrottledRatio != 0.1 {
			t.Errorf("step %d figures: %+v", st.Index, st)
		}
		for _, f := range []string{st.File, st.FortioFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("step %d: %v", st.Index, err)
			}
		}
		if st.LatencyAddedMs == nil {
			t.Errorf("step %d has no latency added", st.Index)
		}
	}
	if len(rec.Baseline) != 2 {
		t.Errorf("%d baselines, want one per rate", len(rec.Baseline))
	}
	onDisk, err := results.Load(dir)
	if err != nil || onDisk.Status != results.SweepDone || len(onDisk.Steps) != 8 {
		t.Errorf("sweep.json: %v %+v", err, onDisk)
	}
}

func TestInterruptedSweepResumes(t *testing.T) {
	dir := t.TempDir()
	b := newStandIn(t)
	ctx, cancel := context.WithCancel(context.Background())
	b.cancelAt, b.cancel = 3, cancel
	rec, err := Run(ctx, b, options(dir))
	if !errors.Is(err, context.Canceled) || rec.Status != results.SweepInterrupted {
		t.Fatalf("err %v status %s", err, rec.Status)
	}
	done := 0
	for _, st := range rec.Steps {
		if st.Done() {
			done++
		}
	}
	if done != 2 {
		t.Fatalf("%d steps done before the interruption, want 2", done)
	}
	onDisk, _ := results.Load(dir)
	firstFile, _ := os.ReadFile(filepath.Join(dir, onDisk.Steps[0].File))

	// Both are bad input, on the field the user must change.
	var bad *input.Error
	if _, err := Run(context.Background(), newStandIn(t), options(dir)); !errors.Is(err, ErrExists) || !errors.As(err, &bad) || bad.Field != FieldOutDir {
		t.Errorf("a second run without resuming: %v, want ErrExists on the results directory", err)
	}
	changed := options(dir)
	changed.Resume, changed.Rates = true, []float64{100, 300}
	if _, err := Run(context.Background(), newStandIn(t), changed); !errors.As(err, &bad) || bad.Field != FieldResume || !strings.Contains(err.Error(), "other options") {
		t.Errorf("resume with other rates: %v, want a problem with resuming", err)
	}

	resume := options(dir)
	resume.Resume = true
	b2 := newStandIn(t)
	rec, err = Run(context.Background(), b2, resume)
	if err != nil || rec.Status != results.SweepDone {
		t.Fatalf("resume: %v %s", err, rec.Status)
	}
	if b2.measures != 6 {
		t.Errorf("resume measured %d steps, want the 6 left", b2.measures)
	}
	again, _ := os.ReadFile(filepath.Join(dir, rec.Steps[0].File))
	if string(again) != string(firstFile) {
		t.Error("resume rewrote a finished step")
	}
}

func TestStartFailureFailsThatSettingOnly(t *testing.T) {
	b := newStandIn(t)
	b.failStart[results.Setting{Concurrency: 2, CPULimitMillicores: 500}] = true
	rec, err := Run(context.Background(), b, options(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, st := range rec.Steps {
		if st.Status == results.StatusFailed {
			failed++
			if st.Concurrency != 2 || st.CPULimitMillicores != 500 || !strings.Contains(st.Reason, "config rejected") {
				t.Errorf("failed step %+v", st)
			}
		}
	}
	if failed != 2 || rec.Status != results.SweepDone {
		t.Errorf("%d failed steps, status %s", failed, rec.Status)
	}
}

func TestRepeatsInterleave(t *testing.T) {
	o := options(t.TempDir())
	o.Settings = Grid([]int{1}, []int64{0})
	o.Repeats = 2
	rec, err := Run(context.Background(), newStandIn(t), o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range rec.Steps {
		got = append(got, fmt.Sprintf("%.0f#%d", st.RequestedRPS, st.Repeat))
	}
	if strings.Join(got, " ") != "100#1 200#1 100#2 200#2" {
		t.Errorf("steps = %v, want the rates interleaved", got)
	}
}

func TestFractionsOfTheSearchedMaximum(t *testing.T) {
	o := options(t.TempDir())
	o.Settings = Grid([]int{1}, []int64{0})
	o.Rates, o.Fractions, o.FindMax = []float64{0.5}, true, true
	o.Search = loadgen.SearchOptions{StartQPS: 100, MaxQPS: 400, MaxSteps: 4}
	rec, err := Run(context.Background(), newStandIn(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Searches) != 1 || rec.Searches[0].MaxRPS <= 0 || len(rec.Searches[0].Steps) == 0 {
		t.Fatalf("searches = %+v", rec.Searches)
	}
	if got, want := rec.Steps[0].RequestedRPS, 0.5*rec.Searches[0].MaxRPS; got != want {
		t.Errorf("step rate %v, want half the maximum %v", got, want)
	}
}

func TestDefaultRequestBuildsTheDefaultSweep(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	o, err := DefaultRequest().Options(now)
	if err != nil {
		t.Fatal(err)
	}
	want := []results.Setting{{Concurrency: 1, CPULimitMillicores: 500}, {Concurrency: 1, CPULimitMillicores: 1000},
		{Concurrency: 2, CPULimitMillicores: 500}, {Concurrency: 2, CPULimitMillicores: 1000}}
	if len(o.Settings) != len(want) {
		t.Fatalf("settings = %v, want %v", o.Settings, want)
	}
	for i := range want {
		if o.Settings[i] != want[i] {
			t.Errorf("setting %d = %v, want %v", i, o.Settings[i], want[i])
		}
	}
	if o.OutDir != filepath.Join("out", "sweep-20261201-093000") {
		t.Errorf("default results directory %q", o.OutDir)
	}
	// The sweep's own defaults, and loadgen's where the sweep has none; the
	// pool is sized per step (0 to the engine).
	if o.Load.Connections != 0 || o.Load.Warmup != DefaultWarmup || o.Load.Duration != loadgen.DefaultDuration || o.Load.Protocol != loadgen.HTTP1 {
		t.Errorf("load = %+v", o.Load)
	}
	if o.Search.MaxSteps != DefaultSearchMaxSteps || o.Search.MaxTime != DefaultSearchMaxTime || o.Search.StartQPS != loadgen.DefaultStartQPS {
		t.Errorf("search = %+v", o.Search)
	}
}

func TestRequestProblemsNameTheirField(t *testing.T) {
	fractions := DefaultRequest()
	fractions.Rates = []float64{0.5}
	slo := DefaultRequest()
	slo.SLOP99, slo.Given = 5*time.Millisecond, map[input.Field]bool{FieldSLOP99: true}
	resume := DefaultRequest()
	resume.Resume = true
	limit := DefaultRequest()
	limit.CPULimits = []string{"lots"}
	// Each problem on its field, in the sweep's words.
	problems := map[input.Field]Request{FieldRates: fractions, FieldSLOP99: slo, FieldResume: resume, driver.FieldCPULimits: limit}
	want := map[input.Field]string{
		FieldRates:            "rates: values up to 1 are fractions of a setting's maximum and need the maximum search, got [0.5]",
		FieldSLOP99:           "p99 SLO: only used with the maximum search",
		FieldResume:           "resume: needs results directory: the directory of the sweep to continue",
		driver.FieldCPULimits: `CPU limits: expected CPU quantities within 1m..1000 such as 500m or 2, or none, got "lots"`,
	}
	for field, r := range problems {
		_, err := r.Options(time.Now())
		var bad *input.Error
		if !errors.As(err, &bad) || bad.Field != field || err.Error() != want[field] {
			t.Errorf("got %v, want %q on %q", err, want[field], field)
		}
	}
	resume.Names = input.Names{FieldResume: "--resume", FieldOutDir: "--out"}
	if _, err := resume.Options(time.Now()); err == nil || err.Error() != "--resume: needs --out: the directory of the sweep to continue" {
		t.Errorf("caller's names: %v", err)
	}
}

// The pool: a count within 1..MaxConnections or auto (0: each step sizes
// its own); anything else names the field.
func TestConnectionsAutoOrACount(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	for give, want := range map[string]int{"auto": 0, "AUTO": 0, "1": 1, "32": 32, "10000": MaxConnections} {
		r := DefaultRequest()
		r.Connections, r.OutDir = give, filepath.Join(t.TempDir(), "out")
		o, err := r.Options(now)
		if err != nil || o.Load.Connections != want {
			t.Errorf("--connections %s: %d, %v; want %d", give, o.Load.Connections, err, want)
		}
	}
	for _, give := range []string{"0", "-1", "10001", "many", ""} {
		r := DefaultRequest()
		r.Connections, r.OutDir = give, filepath.Join(t.TempDir(), "out")
		_, err := r.Options(now)
		var ie *input.Error
		if !errors.As(err, &ie) || ie.Field != FieldConnections {
			t.Errorf("--connections %q: %v, want an error naming connections", give, err)
		}
	}
	if ConnectionsString(0) != "auto" || ConnectionsString(8) != "8" {
		t.Errorf("recorded pools read back as %q and %q", ConnectionsString(0), ConnectionsString(8))
	}
}
