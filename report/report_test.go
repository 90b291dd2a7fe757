package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/results"
)

// fitted is the recorded haproxy sweep analyzed as the sweep command does,
// with the command lines a caller gives the report.
func fitted(t *testing.T) Input {
	t.Helper()
	return Input{Analysis: sweeptest.Recorded(t, sweeptest.HAProxySweep), PlanCommand: "proxysizer plan --from-the-test",
		ReproduceCommand: "proxysizer sweep --grid-from-the-test", GeneratedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
}

func TestWriteRecordedSweep(t *testing.T) {
	in := fitted(t)
	out := t.TempDir()
	p, err := Write(out, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p.HTML, p.Markdown, p.CSV, p.SMP, p.FortioDir} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	// 12 steps and 3 baseline rates (the 600 RPS baseline file was rewritten by a rerun).
	if p.FortioFiles != 15 {
		t.Errorf("fortio export: %d files, want 15", p.FortioFiles)
	}
	if len(p.MissingFortio) != 0 {
		t.Errorf("fortio export: missing %v, want none", p.MissingFortio)
	}
	checkCSV(t, p.CSV, in.Sweep)
	checkSMP(t, p.SMP, out, in.Sweep)
	checkMarkdown(t, p.Markdown, in)
}

func checkCSV(t *testing.T, path string, rec *results.Sweep) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(rec.Steps) {
		t.Fatalf("steps.csv has %d rows, want header + %d", len(rows), len(rec.Steps))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for i, st := range rec.Steps {
		row := rows[1+i]
		for name, want := range map[string]float64{"requested_rps": st.RequestedRPS, "sidecar_rps": st.SidecarRPS, "proxy_cpu_cores": st.ProxyCPUCores,
			"latency_p99_ms": st.LatencyMs.P99, "concurrency": float64(st.Concurrency), "cpu_limit_millicores": float64(st.CPULimitMillicores)} {
			got, err := strconv.ParseFloat(row[col[name]], 64)
			if err != nil || math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Errorf("step %d %s = %q, want %v", st.Index, name, row[col[name]], want)
			}
		}
		if row[col["status"]] != st.Status {
			t.Errorf("step %d status %q, want %q", st.Index, row[col["status"]], st.Status)
		}
		if row[col["fortio_file"]] != st.FortioFile {
			t.Errorf("step %d fortio_file %q, want %q", st.Index, row[col["fortio_file"]], st.FortioFile)
		}
	}
}

func checkSMP(t *testing.T, path, out string, rec *results.Sweep) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc smpDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != len(rec.Steps)+len(rec.Baseline) {
		t.Fatalf("%d SMP runs, want %d steps + %d baseline runs", len(doc.Runs), len(rec.Steps), len(rec.Baseline))
	}
	if got := doc.Environment.Node[0].Cores; got != int32(rec.Environment.Cores) {
		t.Errorf("environment node cores %d, want %d", got, rec.Environment.Cores)
	}
	if !strings.Contains(doc.ProxyLabel, "standing in for Envoy") {
		t.Errorf("proxy label %q does not say haproxy stands in for Envoy", doc.ProxyLabel)
	}
	for i, st := range rec.Steps {
		checkSMPRun(t, doc.Runs[i], st, rec.Options.Connections, out)
	}
	if last := doc.Runs[len(doc.Runs)-1]; last.Role != "baseline" || last.MeshConfig != nil {
		t.Errorf("last run %+v, want a baseline run without a mesh config", last)
	}
}

// checkSMPRun checks one step's SMP run against the step it came from.
func checkSMPRun(t *testing.T, r smpRun, st results.Step, connections int, out string) {
	t.Helper()
	m := r.MeshConfig
	if m == nil {
		t.Errorf("step %d has no mesh config", st.Index)
		return
	}
	for name, got := range map[string][2]int32{
		"proxy concurrency":  {m.ProxyConcurrency, int32(st.Concurrency)},
		"sidecar CPU mcores": {m.Sidecar.CPUMCores, int32(math.Round(st.ProxyCPUCores * 1000))},
		"sidecar RPS":        {m.Sidecar.RPS, int32(math.Round(st.SidecarRPS))},
		"sidecar memory MB":  {m.Sidecar.MemMB, int32(math.Round(float64(st.MemoryWorkingSetBytes) / 1e6))},
		"client connections": {r.TestConfig.Clients[0].Connections, int32(connections)},
	} {
		if got[0] != got[1] {
			t.Errorf("step %d %s %d, want %d", st.Index, name, got[0], got[1])
		}
	}
	res := r.Result
	for name, got := range map[string][2]float64{
		"p99 ms":     {res.LatenciesMs.P99, st.LatencyMs.P99},
		"p50 ms":     {res.LatenciesMs.P50, st.LatencyMs.P50},
		"actual QPS": {res.ActualQPS, st.ActualRPS},
		"client RPS": {float64(r.TestConfig.Clients[0].RPS), float64(int64(st.RequestedRPS))},
	} {
		if got[0] != got[1] {
			t.Errorf("step %d %s %v, want %v", st.Index, name, got[0], got[1])
		}
	}
	if res.LatenciesMs.Min <= 0 {
		t.Errorf("step %d min latency %v ms, want > 0 (from fortio's own result)", st.Index, res.LatenciesMs.Min)
	}
	start, err1 := time.Parse(time.RFC3339Nano, res.StartTime)
	end, err2 := time.Parse(time.RFC3339Nano, res.EndTime)
	if err1 != nil || err2 != nil {
		t.Errorf("step %d times %q..%q do not parse: %v %v", st.Index, res.StartTime, res.EndTime, err1, err2)
	} else if !end.After(start) {
		t.Errorf("step %d ends %s, not after it starts %s", st.Index, end, start)
	}
	if _, err := os.Stat(filepath.Join(out, res.DetailsURI)); err != nil {
		t.Errorf("step %d details_uri %q: %v", st.Index, res.DetailsURI, err)
	}
}

func checkMarkdown(t *testing.T, path string, in Input) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	c := in.Recommendation.Best
	if c == nil {
		t.Fatalf("the recorded sweep has no recommendation: %s", in.Recommendation.NoneMeets)
	}
	for _, want := range []string{
		"# Sidecar sizing report: haproxy 2.6.12 (standing in for Envoy)",
		"| c1 · limit 500m |", "line held-out error", "concave held-out error", "coefficient ± ",
		"**Chosen:** concurrency " + strconv.Itoa(c.Concurrency), "CPU request " + strconv.FormatInt(c.CPURequestMillicores, 10) + "m",
		"**CPU request:** " + strconv.FormatInt(c.CPURequestMillicores, 10) + "m: the upper end of the 95% prediction interval",
		"**Workers:** without the concurrency annotation: Istio 1.18+ would run ceil(1) = 1",
		"> **Stand-in:** measured on haproxy standing in for Envoy", "# measured on haproxy standing in for Envoy",
		"≥ 1789 (lower bound)", "working set (the stand-in's, not Envoy's)",
		"istio-1.24-sidecar", "## Steps",
		in.PlanCommand, in.ReproduceCommand,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// Every warning: the recommendation's too (a wide interval, a lower-bound capacity).
	if len(in.Recommendation.Warnings) == 0 {
		t.Fatal("the recorded sweep's recommendation has no warning to show")
	}
	for _, w := range in.Warnings() {
		if !strings.Contains(text, md(w)) {
			t.Errorf("report.md lacks the warning %q", w)
		}
	}
}

// A sweep whose steps are too few to fit still gets every file, and says so.
func TestWriteNotFitted(t *testing.T) {
	rec := sweeptest.Load(t, sweeptest.HAProxySweep)
	sweeptest.OnlyRateValid(rec, 200)
	in := Input{Analysis: sweeptest.Analyze(t, rec, sweeptest.HAProxySweep)}
	if in.Fit != nil {
		t.Fatal("fit succeeded on one rate")
	}
	p, err := Write(t.TempDir(), in)
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(p.HTML)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(p.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"report.html": string(html), "report.md": string(md)} {
		if !strings.Contains(body, "Not fitted:") {
			t.Errorf("%s does not say it is not fitted", name)
		}
		if !strings.Contains(body, "nothing to fit") {
			t.Errorf("%s does not say why it is not fitted", name)
		}
	}
	if strings.Contains(string(html), `"overall fit`) {
		t.Error("report.html draws a fitted line without a fit")
	}
}

func TestMarkdownEscapesText(t *testing.T) {
	in := fitted(t)
	in.Sweep.Proxy.Version = "<script>window.__pwned=1</script> | x"
	md := Markdown(in)
	if strings.Contains(md, "<script>") {
		t.Errorf("report.md holds the proxy version's <script> as HTML:\n%s", md[:400])
	}
	if !strings.Contains(md, `&lt;script&gt;window.\_\_pwned=1&lt;/script&gt; \| x`) {
		t.Errorf("report.md does not show the proxy version as escaped text:\n%s", md[:400])
	}
}

func TestWriteRejectsSweepWithoutFinishedSteps(t *testing.T) {
	rec := &results.Sweep{SchemaVersion: 1, Status: results.SweepInterrupted, Steps: []results.Step{{Status: results.StatusPending}}}
	in := Input{Analysis: sweeptest.Analyze(t, rec, "")}
	if _, err := Write(t.TempDir(), in); err == nil || !strings.Contains(err.Error(), "no finished step") {
		t.Fatalf("err = %v, want \"no finished step\"", err)
	}
}
