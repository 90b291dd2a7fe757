package sizing

import (
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
)

func TestChooseMeasured(t *testing.T) {
	settings := []MeasuredSetting{
		// c1 500m: cheap but carries only 1500.
		{Setting: results.Setting{Concurrency: 1, CPULimitMillicores: 500}, Cost: model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.09}, CapacityRPS: 1500, CapacityBasis: "search", P99AtCapacityMs: 3},
		// c1 1000m: carries 3000 at 0.10/krps.
		{Setting: results.Setting{Concurrency: 1, CPULimitMillicores: 1000}, Cost: model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.10}, CapacityRPS: 3000, CapacityBasis: "search", P99AtCapacityMs: 4},
		// c2 none: carries 5000 at 0.12/krps.
		{Setting: results.Setting{Concurrency: 2}, Cost: model.CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.12}, CapacityRPS: 5000, CapacityBasis: "search", P99AtCapacityMs: 2},
		// c2 1000m: carries 2600 but its p99 breaks a 5 ms SLO.
		{Setting: results.Setting{Concurrency: 2, CPULimitMillicores: 1000}, Cost: model.CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.08}, CapacityRPS: 2600, CapacityBasis: "search", P99AtCapacityMs: 9},
		// c1 300m: cheapest of all, but throttled from 2000 sidecar RPS.
		{Setting: results.Setting{Concurrency: 1, CPULimitMillicores: 300}, Cost: model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.07}, CapacityRPS: 2500, CapacityBasis: "search", P99AtCapacityMs: 4, ThrottledFromRPS: 2000},
	}
	// Target 2000, headroom 0.2: peak 2400.
	rec := ChooseMeasured(settings, 2000, 0.2, 5)
	if rec.PeakSidecarRPS != 2400 {
		t.Fatalf("peak = %v", rec.PeakSidecarRPS)
	}
	// c1 1000m: 0.01 + 0.10 x 2.4 = 0.25 -> 250m; c2 none: 0.02 + 0.288 = 308m.
	if rec.Best == nil || rec.Best.Concurrency != 1 || rec.Best.CPULimitMillicores != 1000 || rec.Best.CPURequestMillicores != 250 {
		t.Fatalf("best = %+v", rec.Best)
	}
	if rec.RunnerUp == nil || rec.RunnerUp.Concurrency != 2 || rec.RunnerUp.CPULimitMillicores != 0 || rec.RunnerUp.CPURequestMillicores != 308 {
		t.Errorf("runner-up = %+v", rec.RunnerUp)
	}
	joined := strings.Join(rec.Rejected, "\n")
	if !strings.Contains(joined, "concurrency 1, CPU limit 500m: carried at most 1500") || !strings.Contains(joined, "above the 5.00 ms SLO") ||
		!strings.Contains(joined, "concurrency 1, CPU limit 300m: its CPU limit throttled the proxy from 2000") {
		t.Errorf("rejections:\n%s", joined)
	}
	if !strings.Contains(rec.Best.Reason, "250m at the peak 2400") {
		t.Errorf("reason %q", rec.Best.Reason)
	}
}

func TestChooseMeasuredWarnsOnAnUncertainFit(t *testing.T) {
	settings := []MeasuredSetting{{Setting: results.Setting{Concurrency: 1}, Cost: model.CPUCost{CoresPerKRPS: 0.1}, CapacityRPS: 3000, CapacityBasis: "search", FitError: 0.35}}
	rec := ChooseMeasured(settings, 1000, 0, 0)
	if rec.Best == nil || len(rec.Warnings) != 1 || !strings.Contains(rec.Warnings[0], "within 35%") {
		t.Errorf("rec = %+v", rec)
	}
	settings[0].FitError = 0.05
	if rec := ChooseMeasured(settings, 1000, 0, 0); len(rec.Warnings) != 0 {
		t.Errorf("a 5%% fit error warned: %v", rec.Warnings)
	}
}

func TestChooseMeasuredSaysWhenNothingMeetsTheTarget(t *testing.T) {
	settings := []MeasuredSetting{{Setting: results.Setting{Concurrency: 1}, Cost: model.CPUCost{CoresPerKRPS: 0.1}, CapacityRPS: 1000, CapacityBasis: "search"}}
	rec := ChooseMeasured(settings, 2000, 0, 0)
	if rec.Best != nil || !strings.Contains(rec.NoneMeets, "the most was 1000 at concurrency 1, CPU limit none") {
		t.Errorf("rec = %+v", rec)
	}
}
