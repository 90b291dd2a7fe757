//go:build integration

package charts_test

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/internal/testenv"
)

// renderCheck is what the page's script writes in <pre id="render-check">.
type renderCheck struct {
	ECharts string `json:"echarts"`
	Charts  []struct {
		ID     string `json:"id"`
		Series []struct {
			Name   string `json:"name"`
			Type   string `json:"type"`
			Points int    `json:"points"`
		} `json:"series"`
	} `json:"charts"`
	Errors []string `json:"errors"`
}

// probe runs after the page's own scripts and records whether any text from
// the results directory ran as script.
const probe = `<script>document.body.setAttribute("data-pwned", String(typeof window.__pwned));</script></body>`

var (
	renderCheckRE = regexp.MustCompile(`(?s)<pre id="render-check">(.*?)</pre>`)
	pwnedRE       = regexp.MustCompile(`data-pwned="([^"]*)"`)
)

// TestReportRendersInChromium loads report.html from a file URL in headless
// Chromium, with no network, and checks that every chart drew its series
// with data points and that a proxy version holding <script> stayed text.
// The screenshot goes to $PROXYSIZER_TEST_OUT, else charts/testdata/out/.
func TestReportRendersInChromium(t *testing.T) {
	chromium := testenv.RequireBinary(t, "chromium", "apt-get install chromium")
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
	url := "file://" + file

	start := time.Now()
	dom := runChromium(t, chromium, "--dump-dom", url)
	t.Logf("chromium --dump-dom took %s for a %d KB page", time.Since(start).Round(time.Millisecond), page.Len()/1024)

	m := renderCheckRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no render-check in the DOM:\n%.2000s", dom)
	}
	var got renderCheck
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
		t.Fatalf("render-check %q: %v", m[1], err)
	}
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

	out := os.Getenv("PROXYSIZER_TEST_OUT")
	if out == "" {
		out = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, err := filepath.Abs(filepath.Join(out, "report.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(shot)
	runChromium(t, chromium, "--screenshot="+shot, "--window-size=1400,4000", "--hide-scrollbars", "file://"+file)
	if info, err := os.Stat(shot); err != nil || info.Size() < 50_000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
}

// runChromium runs headless Chromium with everything that would reach the
// network turned off, and returns its stdout.
func runChromium(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--disable-extensions", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000"}
	cmd := exec.Command(chromium, append(flags, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium %v: %v\n%.2000s", args, err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("chromium %v: no result after 90s\n%.2000s", args, stderr.String())
	}
	return stdout.String()
}
