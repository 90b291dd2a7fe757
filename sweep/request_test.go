package sweep

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

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
	// The sweep's own defaults, and loadgen's where the sweep has none.
	if o.Load.Connections != DefaultConnections || o.Load.Warmup != DefaultWarmup || o.Load.Duration != loadgen.DefaultDuration || o.Load.Protocol != loadgen.HTTP1 {
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
	for _, tt := range []struct {
		name  string
		r     Request
		field input.Field
		want  string
	}{
		{"fractions without the search", fractions, FieldRates, "rates: values up to 1 are fractions of a setting's maximum and need the maximum search, got [0.5]"},
		{"SLO without the search", slo, FieldSLOP99, "p99 SLO: only used with the maximum search"},
		{"resume without a directory", resume, FieldResume, "resume: needs results directory: the directory of the sweep to continue"},
		{"bad limit", limit, driver.FieldCPULimits, `CPU limits: expected CPU quantities > 0 such as 500m or 2, or none, got "lots"`},
	} {
		_, err := tt.r.Options(time.Now())
		var bad *input.Error
		if !errors.As(err, &bad) || bad.Field != tt.field || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %q on %q", tt.name, err, tt.want, tt.field)
		}
	}
	resume.Names = input.Names{FieldResume: "--resume", FieldOutDir: "--out"}
	if _, err := resume.Options(time.Now()); err == nil || err.Error() != "--resume: needs --out: the directory of the sweep to continue" {
		t.Errorf("caller's names: %v", err)
	}
}
