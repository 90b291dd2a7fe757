package profiles

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/model"
)

// One reference profile per row of the published costs (docs/sources.md,
// "Published sidecar costs"), with its figures.
func TestReferenceProfilesMatchPublishedFigures(t *testing.T) {
	want := map[string]struct {
		cores   float64
		baseMiB float64
		workers int
		p90     float64
	}{
		"istio-1.1-1.3":       {0.6, 50, 0, 7},
		"istio-1.4-1.7":       {0.5, 50, 2, 2.76},
		"istio-1.8-1.16":      {0.35, 40, 2, 2.65},
		"istio-1.20-1.22":     {0.5, 50, 2, 0.228},
		"istio-1.24-sidecar":  {0.20, 60, 2, 0},
		"istio-1.24-waypoint": {0.25, 60, 2, 0},
		"istio-1.24-ztunnel":  {0.06, 12, 0, 0},
		"istio-1.22-curve":    {0.2059, 50, 0, 0},
	}
	refs, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != len(want) {
		t.Fatalf("%d reference profiles, want %d", len(refs), len(want))
	}
	for _, p := range refs {
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected profile %s", p.Name)
			continue
		}
		if p.CPU.CoresPerKRPS != w.cores || p.Memory.BaseBytes != w.baseMiB*(1<<20) || p.Provenance.Workers != w.workers || p.Latency.P90 != w.p90 {
			t.Errorf("%s: cores %v base %v workers %d p90 %v, want %+v", p.Name, p.CPU.CoresPerKRPS, p.Memory.BaseBytes/(1<<20), p.Provenance.Workers, p.Latency.P90, w)
		}
		if p.Kind != KindReference || p.Provenance.Source == "" || p.Provenance.Setup == "" {
			t.Errorf("%s lacks provenance: %+v", p.Name, p.Provenance)
		}
	}
	if p, err := Load(DefaultName); err != nil || p.Component != "sidecar" {
		t.Errorf("default profile %s: %v %+v", DefaultName, err, p)
	}
}

// The curve of istio/istio.io#15335 is the least-squares fit of its five
// points: refitting them gives the committed figures, and the curve is
// nearer the points than the published per-1000-RPS line.
func TestCurveProfileFitsItsPoints(t *testing.T) {
	p, err := Load("istio-1.22-curve")
	if err != nil {
		t.Fatal(err)
	}
	xs := []float64{1000, 2000, 3000, 4000, 5000}
	ys := []float64{0.18, 0.30, 0.40, 0.43, 0.45}
	f, err := model.FitCost(model.ModelConcave, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	c := p.CPU.CPUCost
	if c.Model() != model.ModelConcave || math.Abs(c.CoresPerKRPS-f.Cost.CoresPerKRPS) > 5e-4 || math.Abs(c.Exponent-f.Cost.Exponent) > 5e-4 || c.IdleCores != f.Cost.IdleCores {
		t.Errorf("profile curve %s, fit of the points %s", c.Formula(), f.Cost.Formula())
	}
	line, _ := model.FitCost(model.ModelLine, xs, ys)
	curveHeld, _ := model.LeaveOneCostRateOut(model.ModelConcave, xs, xs, ys)
	lineHeld, _ := model.LeaveOneCostRateOut(model.ModelLine, xs, xs, ys)
	if model.MaxRelError(curveHeld) >= model.MaxRelError(lineHeld) || f.SSE >= line.SSE {
		t.Errorf("curve held-out %.3f SSE %.5f, line %.3f %.5f: the curve should fit better", model.MaxRelError(curveHeld), f.SSE, model.MaxRelError(lineHeld), line.SSE)
	}
	if !strings.Contains(p.Provenance.Source, "istio/istio.io#15335") {
		t.Errorf("provenance %q does not cite the issue", p.Provenance.Source)
	}
	// The curve passes within 0.04 cores of every point (0.036 at 3000 RPS).
	for i, x := range xs {
		if d := math.Abs(c.CoresAt(x) - ys[i]); d > 0.04 {
			t.Errorf("at %.0f RPS the curve gives %.3f cores, the point %.2f", x, c.CoresAt(x), ys[i])
		}
	}
}

func TestWorkerCapacity(t *testing.T) {
	p, _ := Load("istio-1.8-1.16")
	if c := p.WorkerCapacity(); int(c.RPSPerWorker) != 2857 || !strings.Contains(c.Basis, "one core") {
		t.Errorf("derived capacity = %+v, want 1000/0.35 = 2857 from one core", c)
	}
	p.CPU.ByConcurrency = []ConcurrencyCost{{Concurrency: 2, CPUCost: model.CPUCost{CoresPerKRPS: 0.3}, MaxRPS: 5000}, {Concurrency: 4, CPUCost: model.CPUCost{CoresPerKRPS: 0.3}, MaxRPS: 8000}}
	if c := p.WorkerCapacity(); c.RPSPerWorker != 2500 {
		t.Errorf("measured capacity = %v, want the best per-worker maximum 2500", c.RPSPerWorker)
	}
}

func TestCostAtPrefersTheExactSetting(t *testing.T) {
	p, _ := Load("istio-1.8-1.16")
	p.CPU.ByConcurrency = []ConcurrencyCost{
		{Concurrency: 2, CPULimitMillicores: 500, CPUCost: model.CPUCost{CoresPerKRPS: 0.5}},
		{Concurrency: 2, CPULimitMillicores: 0, CPUCost: model.CPUCost{CoresPerKRPS: 0.3}},
		{Concurrency: 4, CPULimitMillicores: 2000, CPUCost: model.CPUCost{CoresPerKRPS: 0.4}},
	}
	tests := []struct {
		concurrency int
		limit       int64
		want        float64
	}{
		{2, 500, 0.5},  // exact
		{2, 1000, 0.3}, // not measured at 1000m: the unlimited entry
		{2, 0, 0.3},
		{4, 0, 0.4},  // the only entry at 4
		{8, 0, 0.35}, // not measured: the overall figure
	}
	for _, tt := range tests {
		if got, basis := p.CostAt(tt.concurrency, tt.limit); got.CoresPerKRPS != tt.want {
			t.Errorf("CostAt(%d, %d) = %v (%s), want %v", tt.concurrency, tt.limit, got.CoresPerKRPS, basis, tt.want)
		}
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	p, _ := Load("istio-1.20-1.22")
	p.Kind, p.Name = KindMeasured, "measured-haproxy"
	p.CPU.ByConcurrency = []ConcurrencyCost{{Concurrency: 2, CPULimitMillicores: 1000, CPUCost: model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.4}, MaxRPS: 4000, R2: 0.99}}
	data, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(Marshal(p)): %v\n%s", err, data)
	}
	if back.CPU.ByConcurrency[0] != p.CPU.ByConcurrency[0] || back.CPU.CoresPerKRPS != p.CPU.CoresPerKRPS || back.Memory != p.Memory {
		t.Errorf("round trip changed the profile:\n%+v\n%+v", p, back)
	}
}

func TestLoadRejectsBadProfiles(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("reference/istio-1.8-1.16.yaml")
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, arg, want string
	}{
		{"unknown name", "istio-9.9", "not a reference profile"},
		{"missing file", filepath.Join(dir, "nope.yaml"), "not a reference profile (see `proxysizer profiles list`) and no such file"},
		{"not YAML", write("bad.yaml", "cpu: [unclosed"), "not a valid profile"},
		{"unknown field", write("typo.yaml", string(good)+"\ncpu_per_krps: 3\n"), "unknown field"},
		{"newer schema", write("v3.yaml", strings.Replace(string(good), "schema_version: 1", "schema_version: 3", 1)), "schema_version 3 is not supported"},
		{"curve in a version 1 profile", write("v1curve.yaml", strings.Replace(string(good), "cores_per_krps: 0.35", "cores_per_krps: 0.35\n  exponent: 0.6", 1)), "needs schema_version 2"},
		{"convex curve", write("convex.yaml", strings.Replace(strings.Replace(string(good), "cores_per_krps: 0.35", "cores_per_krps: 0.35\n  exponent: 1.5", 1), "schema_version: 1", "schema_version: 2", 1)), "exponent must be within (0, 1]"},
		{"zero cost", write("zero.yaml", strings.Replace(string(good), "cores_per_krps: 0.35", "cores_per_krps: 0", 1)), "cores per 1000 RPS"},
		{"bad kind", write("kind.yaml", strings.Replace(string(good), "kind: reference", "kind: guess", 1)), "kind must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.arg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%s) = %v, want an error containing %q", tt.arg, err, tt.want)
			}
		})
	}
	if _, err := Load("istio-9.9"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown name error %v is not ErrUnknown", err)
	}
}

// Every reference profile points to docs/sources.md, and that page lists it
// in its table of published costs: users have the sources, not only a name.
func TestReferenceProfilesCiteTheSourcesPage(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "docs", "sources.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range refs {
		if !strings.Contains(strings.Join(p.Provenance.Notes, "\n"), "docs/sources.md") {
			t.Errorf("%s: no note points to docs/sources.md: %q", p.Name, p.Provenance.Notes)
		}
		if !strings.Contains(string(page), "| `"+p.Name+"`") {
			t.Errorf("docs/sources.md has no row for %s", p.Name)
		}
	}
}
