package charts_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/charts"
)

func TestCapacityPageChartsAndEscaping(t *testing.T) {
	r := fleetReport(t)
	built, missing := charts.FleetCharts(r)
	if len(built) != 6 || len(missing) != 0 {
		t.Fatalf("%d charts built, missing %v; want all 6", len(built), missing)
	}
	var page bytes.Buffer
	if err := charts.RenderCapacity(&page, r); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if strings.Contains(html, xssNote) {
		t.Error("the note's markup reached the page unescaped")
	}
	if !strings.Contains(html, "&lt;/script&gt;&lt;script&gt;window.__pwned=3&lt;/script&gt;") {
		t.Error("the note is not shown as text")
	}
	for _, want := range []string{`id="chart-rps"`, `id="chart-ns-cpu"`, `id="chart-savings"`, `id="chart-risks"`, `id="chart-model"`, "quantile_over_time(0.99"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
