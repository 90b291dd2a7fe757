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

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// recorded is a real haproxy sweep (2 concurrencies x 2 CPU limits x 3
// rates, 2 s steps) on a 2-core machine, with its fortio results.
const recorded = "testdata/haproxy-sweep"

// fitted loads dir and fits it as the sweep command does.
func fitted(t *testing.T, dir string) Input {
	t.Helper()
	rec, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := profiles.Reference()
	if err != nil {
		t.Fatal(err)
	}
	fr, err := fit.FromSweep(rec, refs, fit.Options{Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	// As the sweep and fit commands do: fit.Choose with the default target.
	choice, err := fit.Choose(rec, fr, fit.ChoiceOptions{Headroom: sizing.DefaultHeadroom})
	if err != nil {
		t.Fatal(err)
	}
	return Input{Sweep: rec, Source: dir, Fit: fr, Recommendation: &choice.Recommendation, TargetInboundRPS: choice.TargetRPS,
		TargetAssumed: choice.TargetAssumed, Annotations: choice.Annotations,
		GeneratedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
}

func TestWriteRecordedSweep(t *testing.T) {
	in := fitted(t, recorded)
	out := t.TempDir()
	p, err := Write(out, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.List() {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	// 12 steps and 3 baseline rates (the 600 RPS baseline file was rewritten by a rerun).
	if p.FortioFiles != 15 || len(p.MissingFortio) != 0 {
		t.Errorf("fortio export: %d files, missing %v; want 15, none", p.FortioFiles, p.MissingFortio)
	}
	checkCSV(t, p.CSV, in.Sweep)
	checkSMP(t, p.SMP, out, in.Sweep)
	checkMarkdown(t, p.Markdown, in)
}

func checkCSV(t *testing.T, path string, rec *results.Sweep) {
	t.Helper()
	data, _ := os.ReadFile(path)
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
		if row[col["status"]] != st.Status || row[col["fortio_file"]] != st.FortioFile {
			t.Errorf("step %d: status %q fortio %q", st.Index, row[col["status"]], row[col["fortio_file"]])
		}
	}
}

func checkSMP(t *testing.T, path, out string, rec *results.Sweep) {
	t.Helper()
	data, _ := os.ReadFile(path)
	var doc smpDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != len(rec.Steps)+len(rec.Baseline) {
		t.Fatalf("%d SMP runs, want %d steps + %d baseline runs", len(doc.Runs), len(rec.Steps), len(rec.Baseline))
	}
	if doc.Environment.Node[0].Cores != int32(rec.Environment.Cores) || !strings.Contains(doc.ProxyLabel, "standing in for Envoy") {
		t.Errorf("environment %+v, label %q", doc.Environment, doc.ProxyLabel)
	}
	for i, st := range rec.Steps {
		r := doc.Runs[i]
		m := r.MeshConfig
		if m == nil || m.ProxyConcurrency != int32(st.Concurrency) || m.Sidecar.CPUMCores != int32(math.Round(st.ProxyCPUCores*1000)) ||
			m.Sidecar.RPS != int32(math.Round(st.SidecarRPS)) || m.Sidecar.MemMB != int32(math.Round(float64(st.MemoryWorkingSetBytes)/1e6)) {
			t.Errorf("step %d mesh config %+v", st.Index, m)
		}
		res := r.Result
		if res.LatenciesMs.P99 != st.LatencyMs.P99 || res.LatenciesMs.P50 != st.LatencyMs.P50 || res.ActualQPS != st.ActualRPS || res.LatenciesMs.Min <= 0 {
			t.Errorf("step %d result latencies %+v qps %v", st.Index, res.LatenciesMs, res.ActualQPS)
		}
		if r.TestConfig.Clients[0].RPS != int64(st.RequestedRPS) || r.TestConfig.Clients[0].Connections != int32(rec.Options.Connections) {
			t.Errorf("step %d client %+v", st.Index, r.TestConfig.Clients[0])
		}
		start, err1 := time.Parse(time.RFC3339Nano, res.StartTime)
		end, err2 := time.Parse(time.RFC3339Nano, res.EndTime)
		if err1 != nil || err2 != nil || !end.After(start) {
			t.Errorf("step %d times %q..%q", st.Index, res.StartTime, res.EndTime)
		}
		if _, err := os.Stat(filepath.Join(out, res.DetailsURI)); err != nil {
			t.Errorf("step %d details_uri %q: %v", st.Index, res.DetailsURI, err)
		}
	}
	if last := doc.Runs[len(doc.Runs)-1]; last.Role != "baseline" || last.MeshConfig != nil {
		t.Errorf("last run %+v, want a baseline run without a mesh config", last)
	}
}

func checkMarkdown(t *testing.T, path string, in Input) {
	t.Helper()
	data, _ := os.ReadFile(path)
	md := string(data)
	c := in.Recommendation.Best
	if c == nil {
		t.Fatalf("the recorded sweep has no recommendation: %s", in.Recommendation.NoneMeets)
	}
	for _, want := range []string{
		"# Sidecar sizing report: haproxy 2.6.12 (standing in for Envoy)",
		"| c1 · limit 500m |", "cores / 1000 RPS", "± ", "LOO max error",
		"**Chosen:** concurrency " + strconv.Itoa(c.Concurrency), "CPU request " + strconv.FormatInt(c.CPURequestMillicores, 10) + "m",
		"**Runner-up:**", "istio-1.24-sidecar", "## Steps",
		"proxysizer sweep --backend local --proxy haproxy --concurrency 1,2 --cpu-limit 500m,1 --rates 200,400,600 --outbound-per-request 2 --duration 2s --warmup 500ms",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// A sweep whose steps are too few to fit still gets every file, and says so.
func TestWriteNotFitted(t *testing.T) {
	rec, err := results.Load(recorded)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rec.Steps {
		if rec.Steps[i].RequestedRPS != 200 {
			rec.Steps[i].Status, rec.Steps[i].Reason = results.StatusInvalid, "made invalid by the test"
		}
	}
	refs, _ := profiles.Reference()
	_, ferr := fit.FromSweep(rec, refs, fit.Options{})
	if ferr == nil {
		t.Fatal("fit succeeded on one rate")
	}
	in := Input{Sweep: rec, Source: recorded, NotFitted: ferr.Error()}
	p, err := Write(t.TempDir(), in)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(p.HTML)
	md, _ := os.ReadFile(p.Markdown)
	for name, body := range map[string]string{"report.html": string(html), "report.md": string(md)} {
		if !strings.Contains(body, "Not fitted:") || !strings.Contains(body, "nothing to fit") {
			t.Errorf("%s does not say it is not fitted", name)
		}
	}
	if strings.Contains(string(html), `"overall fit`) {
		t.Error("report.html draws a fitted line without a fit")
	}
}

func TestMarkdownEscapesText(t *testing.T) {
	in := fitted(t, recorded)
	in.Sweep.Proxy.Version = "<script>window.__pwned=1</script> | x"
	md := Markdown(in)
	if strings.Contains(md, "<script>") || !strings.Contains(md, `&lt;script&gt;window.\_\_pwned=1&lt;/script&gt; \| x`) {
		t.Errorf("proxy version not escaped in report.md:\n%s", md[:400])
	}
}

func TestWriteRejectsSweepWithoutFinishedSteps(t *testing.T) {
	rec := &results.Sweep{SchemaVersion: 1, Status: results.SweepInterrupted, Steps: []results.Step{{Status: results.StatusPending}}}
	if _, err := Write(t.TempDir(), Input{Sweep: rec}); err == nil || !strings.Contains(err.Error(), "no finished step") {
		t.Fatalf("err = %v", err)
	}
}
