package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Chromium is headless Chromium with everything that would reach the
// network turned off, for the tests of the HTML pages.
type Chromium struct{ path string }

// RequireChromium finds Chromium or fails the test.
func RequireChromium(t testing.TB) Chromium {
	t.Helper()
	return Chromium{path: RequireBinary(t, "chromium", "apt-get install chromium")}
}

// chromiumTimeout bounds one run: a page's charts draw in a few seconds.
const chromiumTimeout = 90 * time.Second

// Run runs Chromium with args after the flags that keep it headless and
// off the network, and returns its stdout; it fails the test when
// Chromium fails or takes longer than 90 s.
func (c Chromium) Run(t testing.TB, args ...string) string {
	t.Helper()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--disable-extensions", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000"}
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, append(flags, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v (after %s at most)\n%.2000s", args, err, chromiumTimeout, stderr.String())
	}
	return stdout.String()
}

// RenderCheck is what a page's script writes in <pre id="render-check">
// once its charts have drawn: ECharts' version, each chart's series and
// their points, and any script error.
type RenderCheck struct {
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

var renderCheckRE = regexp.MustCompile(`(?s)<pre id="render-check">(.*?)</pre>`)

// Load loads the page at file and returns its DOM once the scripts ran
// and the page's render check.
func (c Chromium) Load(t testing.TB, file string) (string, RenderCheck) {
	t.Helper()
	dom := c.Run(t, "--dump-dom", "file://"+file)
	m := renderCheckRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no render-check in the DOM of %s:\n%.2000s", file, dom)
	}
	var rc RenderCheck
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &rc); err != nil {
		t.Fatalf("the render-check of %s: %v", file, err)
	}
	return dom, rc
}

// Screenshot takes a picture of the page at file, width x height pixels,
// into name under $PROXYSIZER_TEST_OUT (else the test package's
// testdata/out), fails the test when it is smaller than minBytes (a blank
// page), and returns its path.
func (c Chromium) Screenshot(t testing.TB, file, name string, width, height int, minBytes int64) string {
	t.Helper()
	out := os.Getenv("PROXYSIZER_TEST_OUT")
	if out == "" {
		out = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	path, err := filepath.Abs(filepath.Join(out, name))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	c.Run(t, "--screenshot="+path, fmt.Sprintf("--window-size=%d,%d", width, height), "--hide-scrollbars", "file://"+file)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if info.Size() < minBytes {
		t.Fatalf("screenshot %s: %d bytes, want at least %d (a blank page?)", path, info.Size(), minBytes)
	}
	t.Logf("screenshot: %s", path)
	return path
}
