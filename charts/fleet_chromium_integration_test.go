//go:build integration

package charts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/internal/testenv"
)

// TestCapacityReportRendersInChromium loads the capacity page in headless
// Chromium: every chart draws its series, and the note holding markup
// stays text. The screenshot goes beside the sweep report's.
func TestCapacityReportRendersInChromium(t *testing.T) {
	chromium := testenv.RequireChromium(t)
	r := fleetReport(t)
	var page bytes.Buffer
	if err := charts.RenderCapacity(&page, r); err != nil {
		t.Fatal(err)
	}
	cut := strings.LastIndex(page.String(), "</body>")
	probed := page.String()[:cut] + probe + page.String()[cut+len("</body>"):]
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, got := chromium.Load(t, file)
	built, _ := charts.FleetCharts(r)
	if got.ECharts != "5.6.0" || len(got.Errors) > 0 || len(got.Charts) != len(built) {
		t.Fatalf("ECharts %q, errors %v, %d charts of %d", got.ECharts, got.Errors, len(got.Charts), len(built))
	}
	for i, c := range got.Charts {
		if c.ID != built[i].ID || len(c.Series) != len(seriesOf(t, built[i])) {
			t.Errorf("chart %d: %s with %d series, want %s with %d", i, c.ID, len(c.Series), built[i].ID, len(seriesOf(t, built[i])))
		}
		for _, s := range c.Series {
			if s.Points == 0 {
				t.Errorf("%s: series %q drew no points", c.ID, s.Name)
			}
		}
	}
	if p := pwnedRE.FindStringSubmatch(dom); p == nil || p[1] != "undefined" {
		t.Errorf("window.__pwned after load: %v: the note ran as script", p)
	}
	chromium.Screenshot(t, file, "capacity.png", 1400, 3600, 50_000)
}
