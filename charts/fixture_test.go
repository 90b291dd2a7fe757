package charts_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// recorded is the real haproxy sweep report's tests use (2 concurrencies x 2
// CPU limits x 3 rates, with its baseline and fortio results).
const recorded = "../report/testdata/haproxy-sweep"

// xssVersion is a proxy version that runs script if any text reaches the page
// unescaped.
const xssVersion = `<script>window.__pwned=1</script>`

// fitted loads the recorded sweep, gives it a hostile proxy version, and fits
// it as the sweep command does.
func fitted(t *testing.T) charts.Input {
	t.Helper()
	rec, err := results.Load(recorded)
	if err != nil {
		t.Fatal(err)
	}
	rec.Proxy.Version = xssVersion
	rec.Environment.Notes = append(rec.Environment.Notes, `</script><script>window.__pwned=2</script>`)
	refs, err := profiles.Reference()
	if err != nil {
		t.Fatal(err)
	}
	fr, err := fit.FromSweep(rec, refs, fit.Options{Source: recorded})
	if err != nil {
		t.Fatal(err)
	}
	// As the sweep and fit commands do: fit.Choose with the default target.
	choice, err := fit.Choose(rec, fr, fit.ChoiceOptions{Headroom: sizing.DefaultHeadroom})
	if err != nil {
		t.Fatal(err)
	}
	return charts.Input{Sweep: rec, Source: recorded, Fit: fr, Recommendation: &choice.Recommendation, TargetInboundRPS: choice.TargetRPS,
		TargetAssumed: choice.TargetAssumed, Annotations: choice.Annotations,
		GeneratedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
}

// seriesOf reads a chart's series back from its option as the page gets it.
func seriesOf(t *testing.T, c charts.Chart) []map[string]any {
	t.Helper()
	data, err := json.Marshal(c.Option)
	if err != nil {
		t.Fatal(err)
	}
	var opt struct{ Series []map[string]any }
	if err := json.Unmarshal(data, &opt); err != nil {
		t.Fatal(err)
	}
	return opt.Series
}
