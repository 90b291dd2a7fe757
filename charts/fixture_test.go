package charts_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/internal/sweeptest"
)

// xssVersion is a proxy version that runs script if any text reaches the page
// unescaped.
const xssVersion = `<script>window.__pwned=1</script>`

// fitted is the recorded haproxy sweep, given a hostile proxy version and
// note, analyzed as the sweep command does.
func fitted(t *testing.T) charts.Input {
	t.Helper()
	rec := sweeptest.Load(t, sweeptest.HAProxySweep)
	rec.Proxy.Version = xssVersion
	rec.Environment.Notes = append(rec.Environment.Notes, `</script><script>window.__pwned=2</script>`)
	return charts.Input{Analysis: sweeptest.Analyze(t, rec, sweeptest.HAProxySweep), PlanCommand: "proxysizer plan --from-the-test",
		ReproduceCommand: "proxysizer sweep --grid-from-the-test", GeneratedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
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
