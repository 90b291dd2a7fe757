package charts_test

import (
	"bytes"
	"html"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/results"
)

func TestEveryChartHasData(t *testing.T) {
	built, missing := charts.Charts(fitted(t))
	if len(missing) != 0 {
		t.Errorf("charts without data: %v", missing)
	}
	want := []string{"chart-cpu", "chart-capacity", "chart-latency-p50", "chart-latency-p99", "chart-latency-p99-intended", "chart-throttling", "chart-memory", "chart-hops"}
	if len(built) != len(want) {
		t.Fatalf("%d charts, want %d", len(built), len(want))
	}
	for i, c := range built {
		if c.ID != want[i] {
			t.Errorf("chart %d is %s, want %s", i, c.ID, want[i])
		}
		if len(seriesOf(t, c)) == 0 {
			t.Errorf("%s has no series", c.ID)
		}
	}
}

// Each fitted model is drawn as a curve from its own parameters, the chosen
// setting's interval as two more, and the overall fit.
func TestCPUChartDrawsFittedCurves(t *testing.T) {
	in := fitted(t)
	built, _ := charts.Charts(in)
	if built[0].ID != "chart-cpu" {
		t.Fatal("first chart is not the CPU chart")
	}
	lines, intervals := 0, 0
	for _, s := range seriesOf(t, built[0]) {
		if s["type"] == "line" {
			lines++
			if strings.HasPrefix(s["name"].(string), "95% prediction interval") {
				intervals++
			}
		}
	}
	models := 0
	for _, s := range in.Fit.Settings {
		if s.CPU == nil {
			continue
		}
		for _, m := range s.CPU.Models {
			if m.NotFitted == "" {
				models++
			}
		}
	}
	if intervals != 2 || lines != models+intervals+1 {
		t.Errorf("%d line series (%d of them the interval), want one per fitted model (%d), the chosen setting's interval (2) and the overall fit", lines, intervals, models)
	}
}

// Repeats of a rate are drawn as their median with a min-max band, not as a
// line zig-zagging between them.
func TestLatencyChartsShowTheMedianOfRepeats(t *testing.T) {
	in := fitted(t)
	rec := *in.Sweep
	var steps []results.Step
	for _, st := range rec.Steps {
		for i, p99 := range []float64{2, 5, 3} {
			r := st
			r.Repeat, r.LatencyMs.P99 = i+1, p99
			steps = append(steps, r)
		}
	}
	rec.Steps = steps
	a := *in.Analysis
	a.Sweep = &rec
	in.Analysis = &a
	built, _ := charts.Charts(in)
	for _, c := range built {
		if c.ID != "chart-latency-p99" {
			continue
		}
		bands := 0
		for _, s := range seriesOf(t, c) {
			data := s["data"].([]any)
			name := s["name"].(string)
			if name == "c2 · limit 1 min-max of repeats" {
				bands++
				// At each of the 3 rates a bar from the minimum 2 to the
				// maximum 5, then a gap.
				if len(data) != 9 {
					t.Errorf("band: %d points, want 3 per rate", len(data))
				}
				for i, d := range data {
					v := d.(map[string]any)["value"]
					switch i % 3 {
					case 0, 1:
						if y := v.([]any)[1].(float64); y != []float64{2, 5}[i%3] {
							t.Errorf("band point %d at %v, want %v", i, y, []float64{2, 5}[i%3])
						}
					case 2:
						if v != nil {
							t.Errorf("band point %d is %v, want a gap", i, v)
						}
					}
				}
			}
			if strings.HasPrefix(name, "c2 · limit 1") && !strings.Contains(name, "min-max") {
				if len(data) != 3 {
					t.Errorf("%s: %d points for 3 rates", name, len(data))
				}
				for _, d := range data {
					if y := d.(map[string]any)["value"].([]any)[1].(float64); y != 3 {
						t.Errorf("%s: %v, want the median 3 of 2, 5, 3", name, y)
					}
				}
			}
		}
		if bands != 1 {
			t.Errorf("%d band series for c2 · limit 1, want one", bands)
		}
		return
	}
	t.Fatal("no p99 chart")
}

func TestRenderEscapesResultsText(t *testing.T) {
	var b bytes.Buffer
	if err := charts.Render(&b, fitted(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "window.__pwned=1</script>") || strings.Contains(page, "<script>window.__pwned") {
		t.Error("the proxy version reached the page unescaped")
	}
	if !strings.Contains(page, "&lt;script&gt;window.__pwned=1&lt;/script&gt;") {
		t.Error("the proxy version is not shown as text")
	}
	if n := strings.Count(page, "<script>"); n != 3 {
		t.Errorf("%d <script> elements, want 3 (ECharts, the options, the page script)", n)
	}
	if n := strings.Count(page, "</script"); n != 3 {
		t.Errorf("%d </script closers, want 3: results text closed a script element", n)
	}
}

func TestProxyLabel(t *testing.T) {
	in := fitted(t)
	in.Sweep.Proxy.Version = "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/"
	if got := charts.ProxyLabel(in.Sweep.Proxy); got != "haproxy 2.6.12 (standing in for Envoy)" {
		t.Errorf("label %q", got)
	}
	in.Sweep.Proxy.Name, in.Sweep.Proxy.Version = "envoy", "envoy  1f1a2c/1.31.2/Clean/RELEASE/BoringSSL"
	if got := charts.ProxyLabel(in.Sweep.Proxy); got != "envoy 1.31.2" {
		t.Errorf("label %q", got)
	}
}

// The page shows the command lines the caller gives it, and every warning
// of the analysis: the fit's and the recommendation's.
func TestRenderShowsCommandsAndWarnings(t *testing.T) {
	in := fitted(t)
	var b bytes.Buffer
	if err := charts.Render(&b, in); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{in.PlanCommand, in.ReproduceCommand} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if len(in.Recommendation.Warnings) == 0 {
		t.Fatal("the recorded sweep's recommendation has no warning to show")
	}
	for _, w := range in.Warnings() {
		if !strings.Contains(page, html.EscapeString(w)) {
			t.Errorf("the page does not show the warning %q", w)
		}
	}
}
