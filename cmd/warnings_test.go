package cmd

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// warnedSweep is the recorded sweep made to raise warnings of every kind:
// unfinished (the fit's), a step 3% off the configured hops (the hops
// check's), and, from the recommendation, a wide interval, an uncertain
// curve and a capacity that is only a lower bound.
func warnedSweep(t *testing.T) (string, *results.Sweep) {
	t.Helper()
	dir, rec := recordedCopy(t)
	rec.Status = results.SweepInterrupted
	rec.Steps[5].ProxyRequestsPerInbound = 3.1
	rec.Steps = append(rec.Steps, results.Step{Index: len(rec.Steps), Setting: results.Setting{Concurrency: 2, CPULimitMillicores: 1000}, RequestedRPS: 800, Status: results.StatusPending})
	if err := results.Save(dir, rec); err != nil {
		t.Fatal(err)
	}
	return dir, rec
}

// Every warning of the recommendation appears in every output: the fit
// table, fit's JSON, report.md, report.html and the sweep's finish.
func TestEveryWarningInEveryOutput(t *testing.T) {
	dir, rec := warnedSweep(t)
	a, err := analysis.Analyze(rec, analysis.Options{Source: dir, Headroom: sizing.DefaultHeadroom})
	if err != nil {
		t.Fatal(err)
	}
	warnings := a.Warnings()
	kinds := map[string]bool{}
	for _, w := range warnings {
		for _, k := range []string{"steps done", "hops check", "of the request", "predicts held-out rates only within", "is a lower bound"} {
			if strings.Contains(w, k) {
				kinds[k] = true
			}
		}
	}
	if len(kinds) != 5 {
		t.Fatalf("the test sweep raises %d kinds of warning, want 5: %q", len(kinds), warnings)
	}

	code, table, stderr := run(t, "fit", dir, "-o", filepath.Join(t.TempDir(), "p.yaml"))
	if code != 0 {
		t.Fatalf("fit: %s", stderr)
	}
	code, js, stderr := run(t, "fit", dir, "--format", "json", "-o", filepath.Join(t.TempDir(), "p.yaml"))
	if code != 0 {
		t.Fatalf("fit --format json: %s", stderr)
	}
	var res struct{ Warnings []string }
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	var finish bytes.Buffer
	if err := finishSweep(&finish, rec, dir, sweepFlags{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	unMarkdown := strings.NewReplacer(`\|`, "|", `\*`, "*", `\_`, "_", `\[`, "[", `\]`, "]", "\\`", "`", "&lt;", "<", "&gt;", ">", "&amp;", "&")
	outputs := map[string]string{
		"fit table":    table,
		"fit JSON":     strings.Join(res.Warnings, "\n"),
		"report.md":    unMarkdown.Replace(string(md)),
		"report.html":  strings.ReplaceAll(string(page), "&#43;", "+"),
		"sweep finish": finish.String(),
	}
	for name, text := range outputs {
		for _, w := range warnings {
			want := w
			if name == "report.html" {
				want = html.EscapeString(w)
			}
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks the warning %q", name, w)
			}
		}
	}
}
