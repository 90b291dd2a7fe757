//go:build integration

package charts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/internal/testenv"
)

// probe runs after the page's own scripts and records whether any text from
// the results directory ran as script.
const probe = `<script>document.body.setAttribute("data-pwned", String(typeof window.__pwned));</script></body>`

var pwnedRE = regexp.MustCompile(`data-pwned="([^"]*)"`)

// TestReportRendersInChromium loads report.html from a file URL in headless
// Chromium, with no network, and checks that every chart drew its series
// with data points and that a proxy version holding <script> stayed text.
// The screenshot goes to $PROXYSIZER_TEST_OUT, else charts/testdata/out/.
func TestReportRendersInChromium(t *testing.T) {
	chromium := testenv.RequireChromium(t)
	in := fitted(t)
	var page bytes.Buffer
	if err := charts.Render(&page, in); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	// The last </body>: ECharts' own code holds the string too.
	cut := strings.LastIndex(page.String(), "</body>")
	probed := page.String()[:cut] + probe + page.String()[cut+len("</body>"):]
	if err := os.WriteFile(file, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	dom, got := chromium.Load(t, file)
	t.Logf("chromium --dump-dom took %s for a %d KB page", time.Since(start).Round(time.Millisecond), page.Len()/1024)
	if got.ECharts != "5.6.0" || len(got.Errors) > 0 {
		t.Fatalf("ECharts %q, errors %v", got.ECharts, got.Errors)
	}
	built, _ := charts.Charts(in)
	if len(got.Charts) != len(built) {
		t.Fatalf("%d charts rendered, want %d", len(got.Charts), len(built))
	}
	for i, c := range got.Charts {
		if c.ID != built[i].ID {
			t.Errorf("chart %d rendered as %s, want %s", i, c.ID, built[i].ID)
		}
		if len(c.Series) != len(seriesOf(t, built[i])) {
			t.Errorf("%s: %d series rendered, want %d", c.ID, len(c.Series), len(seriesOf(t, built[i])))
		}
		for _, s := range c.Series {
			if s.Points == 0 {
				t.Errorf("%s: series %q (%s) rendered no data points", c.ID, s.Name, s.Type)
			}
		}
	}
	if p := pwnedRE.FindStringSubmatch(dom); p == nil || p[1] != "undefined" {
		t.Errorf("window.__pwned after load: %v (want undefined: the proxy version ran as script)", p)
	}
	if !strings.Contains(dom, "haproxy &lt;script&gt;window.__pwned=1&lt;/script&gt; (standing in for Envoy)") {
		t.Error("the proxy version is not shown as text")
	}

	chromium.Screenshot(t, file, "report.png", 1400, 4000, 50_000)
}
