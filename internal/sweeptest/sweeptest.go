// Package sweeptest gives tests the sweeps recorded in the repository: where
// they are, loaded, and analyzed as a sweep's finish analyzes them.
package sweeptest

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// HAProxySweep is a real haproxy sweep (2 concurrencies x 2 CPU limits x 3
// rates, 2 s steps, k = 2) on a 2-core machine, with its baseline and its
// fortio results: the one reports are tested on.
var HAProxySweep = fromRoot("report", "testdata", "haproxy-sweep")

// HAProxyRepeats is a real haproxy sweep with 3 repeats of 4 rates at 2
// concurrencies x 2 CPU limits (150m throttles); only its sweep.json is kept.
var HAProxyRepeats = fromRoot("fit", "testdata", "haproxy")

// HAProxyCurve is a real haproxy sweep (schema 2) with a max-throughput
// search per setting (2 s steps) and 3 repeats of 5 rates (5 s steps) at 1
// and 2 workers under a 1-core limit, k = 2; only its sweep.json is kept.
var HAProxyCurve = fromRoot("fit", "testdata", "haproxy-curve")

// fromRoot is a path in the repository, wherever the test runs.
func fromRoot(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(append([]string{root}, elem...)...)
}

// Load reads the sweep in dir or fails the test.
func Load(t testing.TB, dir string) *results.Sweep {
	t.Helper()
	rec, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// Analyze analyzes rec, read from dir, with the default headroom and no
// target, as a sweep's finish does, or fails the test.
func Analyze(t testing.TB, rec *results.Sweep, dir string) *analysis.Analysis {
	t.Helper()
	a, err := analysis.Analyze(rec, analysis.Options{Source: dir, Headroom: sizing.DefaultHeadroom})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Recorded loads and analyzes the sweep in dir, and fails the test if it
// could not be fitted.
func Recorded(t testing.TB, dir string) *analysis.Analysis {
	t.Helper()
	a := Analyze(t, Load(t, dir), dir)
	if a.NotFitted != nil {
		t.Fatalf("%s not fitted: %v", dir, a.NotFitted)
	}
	return a
}

// OnlyRateValid marks every step of rec at another rate invalid: one rate is
// too few to fit.
func OnlyRateValid(rec *results.Sweep, rate float64) {
	for i := range rec.Steps {
		if rec.Steps[i].RequestedRPS != rate {
			rec.Steps[i].Status, rec.Steps[i].Reason = results.StatusInvalid, "made invalid by the test"
		}
	}
}
