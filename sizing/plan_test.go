package sizing

import (
	"math"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/input"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
)

// testProfile has round numbers so expected values can be worked by hand.
func testProfile() profiles.Profile {
	return profiles.Profile{
		SchemaVersion: profiles.SchemaVersion, Name: "test", Kind: profiles.KindMeasured, Component: "sidecar", Proxy: "test proxy",
		CPU: profiles.CPUProfile{CPUCost: model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.25}, MaxRPSPerCore: 2000},
		Memory: model.MemoryCost{BaseBytes: 40 << 20, PerClusterBytes: 40 << 10, PerEndpointBytes: 1 << 10,
			PerWorkerPerClusterBytes: 2 << 10},
	}
}

func baseInput() Input {
	return Input{
		AppRPSPerPod: 500, Fanout: model.FanoutFromRequestsPerCall(2), Profile: testProfile(),
		Config: model.Config{Clusters: 100, Endpoints: 300}, Headroom: 0.15, MemoryLimitRatio: 2,
	}
}

func mustRecommend(t *testing.T, in Input) Plan {
	t.Helper()
	p, err := Recommend(in)
	if err != nil {
		t.Fatalf("Recommend: %v", err)
	}
	return p
}

func TestRecommendSidecar(t *testing.T) {
	p := mustRecommend(t, baseInput())
	// 500 inbound x 2 = 1000 sidecar RPS; peak 1150.
	if p.SidecarRPSPerPod != 1000 || math.Abs(p.PeakSidecarRPS-1150) > 1e-9 {
		t.Fatalf("sidecar RPS %v peak %v, want 1000 and 1150", p.SidecarRPSPerPod, p.PeakSidecarRPS)
	}
	// 1150 RPS at 2000 per worker: 1 worker.
	if p.Concurrency != 1 {
		t.Errorf("concurrency = %d, want 1", p.Concurrency)
	}
	// 0.01 + 0.25 x 1.15 = 0.2975 cores -> 298m.
	if p.Sidecar.CPURequestMillicores != 298 {
		t.Errorf("cpu request = %dm, want 298m", p.Sidecar.CPURequestMillicores)
	}
	// auto limit: one core per worker.
	if p.Sidecar.CPULimitMillicores != 1000 {
		t.Errorf("cpu limit = %dm, want 1000m", p.Sidecar.CPULimitMillicores)
	}
	// 40 Mi + 100 x 40 Ki + 300 x 1 Ki = 46,346,240 B; x 1.15 = 50.8 MiB -> 51 Mi.
	if p.Sidecar.MemoryRequestBytes != 51<<20 {
		t.Errorf("memory request = %d, want %d (51Mi)", p.Sidecar.MemoryRequestBytes, 51<<20)
	}
	if p.Sidecar.MemoryLimitBytes != 102<<20 {
		t.Errorf("memory limit = %d, want 102Mi", p.Sidecar.MemoryLimitBytes)
	}
	for name, why := range map[string]string{"cpu request": p.Sidecar.Reasons.CPURequest, "cpu limit": p.Sidecar.Reasons.CPULimit,
		"memory request": p.Sidecar.Reasons.MemoryRequest, "memory limit": p.Sidecar.Reasons.MemoryLimit, "concurrency": p.ConcurrencyReason} {
		if why == "" {
			t.Errorf("%s has no reason", name)
		}
	}
}

func TestConcurrencyFollowsPeakAndLimit(t *testing.T) {
	tests := []struct {
		name        string
		rpsPerPod   float64
		limit       CPULimit
		fixed       int
		wantWorkers int
		wantLimit   int64
		wantWarning string
	}{
		{"enough workers for the peak", 3000, CPULimit{}, 0, 4, 4000, ""}, // 6000 x 1.15 = 6900 / 2000 -> 4
		{"capped at ceil(limit)", 3000, CPULimit{Mode: CPULimitFixed, Millicores: 2500}, 0, 3, 2500, "carries about 6000"},
		{"fixed above ceil(limit) warns", 100, CPULimit{Mode: CPULimitFixed, Millicores: 1000}, 4, 4, 1000, "above ceil(CPU limit) = 1"},
		{"no limit warns about node cores", 100, CPULimit{Mode: CPULimitNone}, 0, 1, 0, "node's allocatable CPU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			in.AppRPSPerPod, in.CPULimit, in.Concurrency = tt.rpsPerPod, tt.limit, tt.fixed
			p := mustRecommend(t, in)
			if p.Concurrency != tt.wantWorkers || p.Sidecar.CPULimitMillicores != tt.wantLimit {
				t.Errorf("concurrency %d limit %dm, want %d and %dm", p.Concurrency, p.Sidecar.CPULimitMillicores, tt.wantWorkers, tt.wantLimit)
			}
			if tt.wantWarning != "" && !containsAny(p.Warnings, tt.wantWarning) {
				t.Errorf("warnings %q lack %q", p.Warnings, tt.wantWarning)
			}
		})
	}
}

func TestMeasuredCostPerConcurrencyIsUsed(t *testing.T) {
	in := baseInput()
	in.Profile.CPU.ByConcurrency = []profiles.ConcurrencyCost{
		{Concurrency: 2, CPULimitMillicores: 500, CPUCost: model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.5}, MaxRPS: 1000},
		{Concurrency: 2, CPULimitMillicores: 0, CPUCost: model.CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.3}, MaxRPS: 3000},
	}
	in.CPULimit = CPULimit{Mode: CPULimitNone}
	in.Concurrency = 2
	p := mustRecommend(t, in)
	// 0.02 + 0.3 x 1.15 = 0.365
	if p.Sidecar.CPURequestMillicores != 365 || !strings.Contains(p.Sidecar.CPUCostBasis, "concurrency 2") {
		t.Errorf("cpu request %dm basis %q, want 365m from the concurrency-2 fit", p.Sidecar.CPURequestMillicores, p.Sidecar.CPUCostBasis)
	}
	if p.WorkerCapacityRPS != 1500 {
		t.Errorf("worker capacity = %v, want 3000 / 2 = 1500 measured", p.WorkerCapacityRPS)
	}
}

func TestReferenceProfileAssumptions(t *testing.T) {
	in := baseInput()
	prof, err := profiles.Load("istio-1.24-ztunnel")
	if err != nil {
		t.Fatal(err)
	}
	in.Profile = prof
	in.ConfigDefault = true
	p := mustRecommend(t, in)
	if !containsAny(p.Warnings, "not a sidecar") {
		t.Errorf("a ztunnel profile gave no warning: %q", p.Warnings)
	}
	for _, want := range []string{"published figures", "configuration size not given", "retries twice", "all four resource annotations"} {
		if !containsAny(p.Assumptions, want) {
			t.Errorf("assumptions lack %q: %q", want, p.Assumptions)
		}
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// A measured profile's curve with its uncertainty: the plan's request is the
// upper end of the 95% prediction interval at the peak, the point estimate
// beside it, exactly what the measured choice asks for the same setting.
func TestRecommendSizesFromTheCurvesInterval(t *testing.T) {
	in := baseInput()
	curve := model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.3, Exponent: 0.7,
		Uncertainty: &model.CostUncertainty{ResidualSD: 0.01, Points: 15, DoF: 12, Rates: 5}}
	in.Profile.CPU.ByConcurrency = []profiles.ConcurrencyCost{{Concurrency: 1, CPULimitMillicores: 1000, CPUCost: curve, MaxRPS: 3000}}
	p := mustRecommend(t, in)
	// 0.01 + 0.3 x 1.15^0.7 = 0.3404 cores at the peak; ± t(12) x 0.01 = 21.8m.
	point := 10 + 300*math.Pow(1.15, 0.7)
	if math.Abs(p.Sidecar.PeakCPUMillicores-point) > 1e-9 || p.Sidecar.PeakCPUInterval == nil {
		t.Fatalf("peak CPU %v (interval %v), want the curve's %v", p.Sidecar.PeakCPUMillicores, p.Sidecar.PeakCPUInterval, point)
	}
	want := int64(math.Ceil(point + 1000*model.TQuantile95(12)*0.01))
	if p.Sidecar.CPURequestMillicores != want || RequestAt(curve, p.PeakSidecarRPS).CPURequestMillicores != want {
		t.Errorf("request %dm, want the interval's top %dm", p.Sidecar.CPURequestMillicores, want)
	}
	if r := p.Sidecar.Reasons.CPURequest; !strings.Contains(r, "concave curve") || !strings.Contains(r, "upper end of its 95% prediction interval") {
		t.Errorf("reason %q", r)
	}
}

// The HPA's sidecar CPU at the app's target follows the curve: at the
// target it is the curve's value there, not a line through the profile's
// first 1000 RPS.
func TestSidecarCPUFromACurve(t *testing.T) {
	curve := model.CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.2, Exponent: 0.5}
	// App 0.5 cores per 1000 inbound RPS, target 700m: 1400 inbound RPS,
	// 2800 through a sidecar with 2 hops.
	l := SidecarCPUFromCost(curve, 2, 1000, 0.5, 700, input.Names{})
	if got, want := l.at(700), curve.CoresAt(2800)*1000; math.Abs(got-want) > 1e-9 {
		t.Errorf("sidecar at the app's target %v m, want the curve's %v", got, want)
	}
	line := model.CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.2}
	if l := SidecarCPUFromCost(line, 2, 1000, 0.5, 700, input.Names{}); math.Abs(l.BaseMillicores-20) > 1e-9 || math.Abs(l.PerAppMillicore-0.8) > 1e-12 {
		t.Errorf("a line: base %v per %v, want the idle 20m and 0.2 x 2 / 0.5 = 0.8", l.BaseMillicores, l.PerAppMillicore)
	}
}

// A version 1 profile, as fit wrote it before curves, still loads and sizes
// as a line: the request is its point estimate (it carries no interval).
func TestVersion1ProfileStillSizes(t *testing.T) {
	prof, err := profiles.Load("../profiles/testdata/v1-measured-haproxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if prof.SchemaVersion != 1 {
		t.Fatalf("schema %d", prof.SchemaVersion)
	}
	in := baseInput()
	in.Profile, in.Concurrency, in.CPULimit = prof, 1, CPULimit{Mode: CPULimitFixed, Millicores: 1000}
	p := mustRecommend(t, in)
	// c1-l1: 0.013726 + 0.052323 x 1.15 = 0.073898 cores -> 74m.
	if p.Sidecar.CPURequestMillicores != 74 || p.Sidecar.PeakCPUInterval != nil || p.Sidecar.CPUCost.Model() != model.ModelLine {
		t.Errorf("request %dm, interval %v, model %s; want 74m, none, line", p.Sidecar.CPURequestMillicores, p.Sidecar.PeakCPUInterval, p.Sidecar.CPUCost.Model())
	}
}
