package charts_test

import (
	"bytes"
	"html"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/charts"
)

func TestEveryChartHasData(t *testing.T) {
	built, missing := charts.Charts(fitted(t))
	if len(missing) != 0 {
		t.Errorf("charts without data: %v", missing)
	}
	want := []string{"chart-cpu", "chart-capacity", "chart-latency-p50", "chart-latency-p99", "chart-throttling", "chart-memory", "chart-hops"}
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

// The fitted lines are drawn from the fit's intercept and slope.
func TestCPUChartDrawsFittedLines(t *testing.T) {
	in := fitted(t)
	built, _ := charts.Charts(in)
	var b bytes.Buffer
	if err := charts.Render(&b, in); err != nil {
		t.Fatal(err)
	}
	if built[0].ID != "chart-cpu" {
		t.Fatal("first chart is not the CPU chart")
	}
	lines := 0
	for _, s := range seriesOf(t, built[0]) {
		if s["type"] == "line" {
			lines++
		}
	}
	fittedSettings := 0
	for _, s := range in.Fit.Settings {
		if s.CPU != nil {
			fittedSettings++
		}
	}
	if lines != fittedSettings+1 {
		t.Errorf("%d line series, want one per fitted setting (%d) and the overall fit", lines, fittedSettings)
	}
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
