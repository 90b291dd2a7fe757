package capacity

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func q(s string) *resource.Quantity {
	v := resource.MustParse(s)
	return &v
}

func fig(v float64) prom.Figure { return prom.Figure{Value: v, Found: true} }

// testFleet has a busy workload with an HPA, an idle one, one without a
// sidecar and one with outbound calls only; every metric is present.
func testFleet() *Fleet {
	all := map[string]int{}
	for _, nq := range prom.FleetQueries(prom.FleetQuery{Window: time.Hour, RateWindow: time.Minute, Quantile: 0.99, At: time.Unix(0, 0)}) {
		all[nq.Name] = 1
	}
	target := int32(70)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 10,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}}}
	hpa.Name, hpa.Namespace = "web", "shop"
	annotated := cluster.SidecarResources{CPURequest: q("100m"), CPULimit: q("1"), MemoryRequest: q("128Mi"), MemoryLimit: q("256Mi"), Source: "pod-template annotations"}
	web := Workload{Kind: cluster.KindDeployment, Namespace: "shop", Name: "web", Replicas: 4, SelectorLabels: map[string]string{"app": "web"},
		Annotations: map[string]string{sizing.AnnotationProxyCPU: "100m", sizing.AnnotationProxyCPULimit: "1", sizing.AnnotationProxyMemory: "128Mi",
			sizing.AnnotationProxyMemoryLimit: "256Mi", sizing.AnnotationProxyConfig: "concurrency: 4\nholdApplicationUntilProxyStarts: true\n"},
		Containers: []sizing.PodContainer{{Name: "app", Role: sizing.RoleApp, RequestMillicores: 500, HasRequest: true},
			{Name: "istio-proxy", Role: sizing.RoleSidecar, RequestMillicores: 100, HasRequest: true, Proxy: true}},
		AppContainer: "app",
		Sidecar: SidecarState{Found: true, Kind: "annotations", Resources: annotated, Concurrency: 4, ConcurrencyKnown: true, ConcurrencySource: "annotation proxy.istio.io/config",
			ResourceAnnotations: []string{sizing.AnnotationProxyCPU, sizing.AnnotationProxyCPULimit, sizing.AnnotationProxyMemory, sizing.AnnotationProxyMemoryLimit}},
		HPA:    &HPAState{Object: hpa, Name: "web", Min: 2, Max: 10, Metric: HPAResource, TargetPercent: 70, CPUMetric: 0},
		Config: ConfigState{Known: true, Holds: cluster.Scope{Clusters: 400, Endpoints: 2000}, HoldsSource: "no Sidecar applies: every service of the mesh", ScopedKnown: true, Scoped: cluster.Scope{Clusters: 6, Endpoints: 20}, ScopedHosts: []string{"istio-system/*", "shop/cart.shop.svc.cluster.local", "auth/authz.auth.svc.cluster.local"}},
		Telemetry: prom.WorkloadTelemetry{InboundPeakPerPod: fig(200), InboundRequests: fig(1e6),
			Outbound: map[string]float64{"cart.shop.svc.cluster.local": 2e6, "authz.auth.svc.cluster.local": 1e6, "unknown": 0},
			Retries:  fig(1.5e5), ProxyCPUPeak: fig(0.3), AppCPUPeak: fig(0.25), ThrottledPeak: fig(0.4),
			ProxyMemoryMax: fig(80 << 20), AppMemoryMax: fig(300 << 20)}}
	idle := Workload{Kind: cluster.KindDeployment, Namespace: "shop", Name: "idle", Replicas: 1,
		Annotations: map[string]string{sizing.AnnotationProxyCPU: "200m"},
		Containers:  []sizing.PodContainer{{Name: "app", Role: sizing.RoleApp, RequestMillicores: 100, HasRequest: true}},
		Sidecar: SidecarState{Found: true, Kind: "annotations", Resources: cluster.SidecarResources{CPURequest: q("200m")}, ConcurrencySource: "unset and no CPU limit: one worker per node core",
			ResourceAnnotations: []string{sizing.AnnotationProxyCPU}},
		Telemetry: prom.WorkloadTelemetry{ProxyCPUPeak: fig(0.003), ProxyMemoryMax: fig(40 << 20)}}
	bare := Workload{Kind: cluster.KindStatefulSet, Namespace: "pay", Name: "db", Replicas: 3}
	worker := Workload{Kind: cluster.KindDeployment, Namespace: "pay", Name: "worker", Replicas: 1,
		Sidecar:   SidecarState{Found: true, Kind: "container", Resources: cluster.SidecarResources{CPURequest: q("100m")}},
		Telemetry: prom.WorkloadTelemetry{Outbound: map[string]float64{"db.pay.svc.cluster.local": 5e5}}}
	return &Fleet{Namespaces: []string{"shop", "pay"}, Workloads: []Workload{web, idle, bare, worker}, K8sVersion: version.MustParseGeneric("1.26.0"), K8sGitVersion: "v1.26.0",
		Telemetry: TelemetryRun{At: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Window: 7 * 24 * time.Hour, RateWindow: 5 * time.Minute, Quantile: 0.99, Series: all, QueriesSent: 9}}
}

func testOptions(t *testing.T) Options {
	t.Helper()
	p, err := profiles.Load(profiles.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Profile: p, Headroom: 0.15, MemoryLimitRatio: 2, AuthzUpstreams: []string{"authz.auth.svc.cluster.local"}}
}

func analyze(t *testing.T, f *Fleet, o Options) *Report {
	t.Helper()
	r, err := Analyze(f, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAnalyzeMeasuresHopsAndSizesWithTheSizingCore(t *testing.T) {
	o := testOptions(t)
	r := analyze(t, testFleet(), o)
	web := r.Workloads[0]
	if web.Status != StatusSized {
		t.Fatalf("web %s: %s", web.Status, web.StatusReason)
	}
	// 2 calls to cart and 1 authz call per inbound request; 0.15 retries
	// per inbound over 3 calls: 5% of them.
	h := web.Load.Hops
	if h.Outbound != 2 || h.Authz != 1 || math.Abs(h.Retries-0.15) > 1e-12 || math.Abs(h.Total-4.15) > 1e-12 {
		t.Errorf("hops %+v, want 2 outbound, 1 authz, 0.15 retries, 4.15 in all", h)
	}
	if l := web.Load; l.OutboundRPSPerPodAtPeak != 400 || l.AuthzRPSPerPodAtPeak != 200 || math.Abs(l.RetryRPSPerPodAtPeak-30) > 1e-9 {
		t.Errorf("per pod at the peak: %+v", l)
	}
	if math.Abs(web.Load.SidecarRPSPerPodAtPeak-830) > 1e-9 {
		t.Errorf("sidecar RPS per pod %.3f, want 200 x 4.15", web.Load.SidecarRPSPerPodAtPeak)
	}
	want, err := sizing.Recommend(sizing.Input{AppRPSPerPod: 200, Replicas: 4, Fanout: model.Fanout{Outbound: 2, Authz: 1, RetryRatio: 0.05},
		Profile: o.Profile, Config: model.Config{Clusters: 400, Endpoints: 2000}, Headroom: 0.15, MemoryLimitRatio: 2,
		HPA: &sizing.HPAInput{AppCPURequestMillicores: 500, TargetPercent: 70, AppCoresPerKRPS: 1.25, K8sVersion: version.MustParseGeneric("1.26.0"),
			Deployment: "web", AppContainer: "app", MinReplicas: 2, MaxReplicas: 10}})
	if err != nil {
		t.Fatal(err)
	}
	rec := web.Recommendation
	if rec.CPURequestMillicores != want.Sidecar.CPURequestMillicores || rec.MemoryRequestBytes != want.Sidecar.MemoryRequestBytes ||
		rec.Concurrency != want.Concurrency || rec.HPA.ManifestTargetPercent != want.HPA.ManifestTargetPercent {
		t.Errorf("recommendation %+v, want the sizing core's %+v", rec, want.Sidecar)
	}
	if !strings.HasPrefix(rec.HPAChange, "target: Resource metric at") {
		t.Errorf("HPA change %q: on 1.26 the Resource metric's target moves", rec.HPAChange)
	}
	// The prediction at its current concurrency 4 and limit 1: the profile's overall cost.
	m := web.Model
	if m == nil || math.Abs(m.PredictedMillicores-0.2*830) > 1e-9 || math.Abs(m.Error-(0.2*830/300-1)) > 1e-12 {
		t.Errorf("model %+v, want 166m against the measured 300m", m)
	}
	// A scoped Sidecar: the memory model at 400/2000 less 6/20, per pod and times 4.
	saved := o.Profile.Memory.Estimate(model.Config{Clusters: 400, Endpoints: 2000}, rec.Concurrency).Total - o.Profile.Memory.Estimate(model.Config{Clusters: 6, Endpoints: 20}, rec.Concurrency).Total
	if math.Abs(web.Config.MemorySavedPerPodBytes-saved) > 1e-6 || math.Abs(web.Config.MemorySavedBytes-4*saved) > 1e-6 {
		t.Errorf("saved %.0f per pod, %.0f in all; want %.0f and 4x", web.Config.MemorySavedPerPodBytes, web.Config.MemorySavedBytes, saved)
	}
	if got := web.Totals.CPURequestedMillicores; got != 400 {
		t.Errorf("requested %v, want 4 x 100m", got)
	}
	if got := web.Totals.CPURecommendedMillicores; got != 4*float64(rec.CPURequestMillicores) {
		t.Errorf("recommended %v", got)
	}
}

func TestAnalyzeRisks(t *testing.T) {
	r := analyze(t, testFleet(), testOptions(t))
	kinds := map[string][]string{}
	for _, rk := range r.Risks {
		kinds[rk.Workload] = append(kinds[rk.Workload], rk.Kind)
	}
	want := map[string][]string{
		"deployment shop/web":  {RiskThrottled, RiskUsageAboveRequest, RiskConcurrencyAbove},
		"deployment shop/idle": {RiskPartialAnnotations},
	}
	for w, ks := range want {
		if strings.Join(kinds[w], ",") != strings.Join(ks, ",") {
			t.Errorf("%s risks %v, want %v", w, kinds[w], ks)
		}
	}
	if len(kinds) != len(want) {
		t.Errorf("risks %v", kinds)
	}
	// Under the thresholds: 24% throttled, usage at its request, concurrency 1.
	f := testFleet()
	w := &f.Workloads[0]
	w.Telemetry.ThrottledPeak, w.Telemetry.ProxyCPUPeak = fig(0.24), fig(0.1)
	w.Sidecar.Concurrency = 1
	// A container without a CPU request under the Resource HPA.
	w.Containers[0].HasRequest = false
	r = analyze(t, f, testOptions(t))
	var got []string
	for _, rk := range r.Workloads[0].Risks {
		got = append(got, rk.Kind)
	}
	if strings.Join(got, ",") != RiskMissingCPURequest {
		t.Errorf("risks %v, want only %s", got, RiskMissingCPURequest)
	}
	if !strings.Contains(r.Workloads[0].Recommendation.HPAChange, `container "app" has no CPU request`) {
		t.Errorf("HPA change %q", r.Workloads[0].Recommendation.HPAChange)
	}
}

func TestAnalyzeStatusesAndTotals(t *testing.T) {
	r := analyze(t, testFleet(), testOptions(t))
	status := map[string]string{}
	for _, w := range r.Workloads {
		status[w.Name] = w.Status
	}
	if status["web"] != StatusSized || status["idle"] != StatusIdle || status["db"] != StatusNoSidecar || status["worker"] != StatusNoTraffic {
		t.Errorf("statuses %v", status)
	}
	if idle := r.Workloads[1]; idle.Recommendation.CPURequestMillicores != 10 {
		t.Errorf("idle: %dm, want the 10m floor", idle.Recommendation.CPURequestMillicores)
	}
	if r.Total.Sized != 2 || r.Total.Workloads != 4 || r.Total.Pods != 5 || len(r.ByNamespace) != 2 {
		t.Errorf("total %+v, by namespace %+v", r.Total, r.ByNamespace)
	}
	shop := r.ByNamespace[1]
	if shop.Namespace != "shop" || shop.CPURequestedMillicores != 400+200 || shop.CPUSavingMillicores != shop.CPURequestedMillicores-shop.CPURecommendedMillicores {
		t.Errorf("shop %+v", shop)
	}
	if r.Model.Workloads != 2 || r.Model.Fit == nil {
		t.Errorf("model %+v", r.Model)
	}
}

func TestAnalyzeSaysWhatIsMissing(t *testing.T) {
	f := testFleet()
	f.Telemetry.Series = map[string]int{prom.QueryInbound: 1, prom.QueryInboundPeak: 1, prom.QueryOutbound: 1}
	w := &f.Workloads[0]
	w.Telemetry.Retries, w.Telemetry.ProxyCPUPeak, w.Telemetry.ProxyMemoryMax, w.Telemetry.ThrottledPeak = prom.Figure{}, prom.Figure{}, prom.Figure{}, prom.Figure{}
	r := analyze(t, f, testOptions(t))
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"no envoy_cluster_upstream_rq_retry series: retries are not counted", `no cAdvisor series for container="istio-proxy"`} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	web := r.Workloads[0]
	if web.Model != nil || web.Load.Hops.Retries != 0 || web.Status != StatusSized {
		t.Errorf("web without retries and cAdvisor: %s, model %+v, hops %+v", web.Status, web.Model, web.Load.Hops)
	}
	f.Telemetry.Series = map[string]int{}
	r = analyze(t, f, testOptions(t))
	if r.Workloads[0].Status != StatusNoTraffic || !strings.Contains(strings.Join(r.Notes, " "), "no istio_requests_total series") {
		t.Errorf("no Istio telemetry at all: %s, notes %v", r.Workloads[0].Status, r.Notes)
	}
}

func TestRetriesAboveOnePerCallAreCapped(t *testing.T) {
	f := testFleet()
	f.Workloads[0].Telemetry.Retries = fig(6e6) // 2 per outbound request
	r := analyze(t, f, testOptions(t))
	web := r.Workloads[0]
	if web.Load.Hops.Retries != 3 || !strings.Contains(strings.Join(web.Notes, " "), "2.00 retries per outbound request") {
		t.Errorf("hops %+v, notes %v", web.Load.Hops, web.Notes)
	}
}

func TestPatchesKeepTheProxyConfigAndDropALimit(t *testing.T) {
	o := testOptions(t)
	o.CPULimit = sizing.CPULimit{Mode: sizing.CPULimitNone}
	f := testFleet()
	r := analyze(t, f, o)
	files, err := Patches(f, r)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]string{}
	for _, p := range files {
		byPath[p.Path] = string(p.Content)
	}
	patch, ok := byPath["shop/deployment-web.yaml"]
	if !ok {
		t.Fatalf("no web patch in %v", byPath)
	}
	var doc struct {
		Spec struct {
			Template struct {
				Metadata struct {
					Annotations map[string]*string `json:"annotations"`
				} `json:"metadata"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(patch), &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Spec.Template.Metadata.Annotations
	if v, ok := a[sizing.AnnotationProxyCPULimit]; !ok || v != nil {
		t.Errorf("no CPU limit recommended: the patch must remove proxyCPULimit (null), got %v", a)
	}
	if cfg := a[sizing.AnnotationProxyConfig]; cfg == nil || !strings.Contains(*cfg, "holdApplicationUntilProxyStarts: true") || !strings.Contains(*cfg, "concurrency: ") {
		t.Errorf("proxy config %v: other fields must stay", cfg)
	}
	if !strings.Contains(patch, "kubectl patch deployment web -n shop --type strategic --patch-file shop/deployment-web.yaml") {
		t.Errorf("patch header %q", patch)
	}
	if _, ok := byPath["shop/hpa-web.yaml"]; !ok {
		t.Error("no HPA patch for web")
	}
	if s, ok := byPath["shop/sidecar-web.yaml"]; !ok || !strings.Contains(s, "cart.shop.svc.cluster.local") || !strings.Contains(s, "app: web") {
		t.Errorf("no scoped Sidecar suggestion for web: %q", s)
	}
	for p := range byPath {
		if strings.Contains(p, "worker") || strings.Contains(p, "db") {
			t.Errorf("a patch for an unsized workload: %s", p)
		}
	}
}

func TestOutputs(t *testing.T) {
	f := testFleet()
	f.Notes = []string{"a | pipe and <b>markup</b>"}
	r := analyze(t, f, testOptions(t))
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d CSV rows, want a header and 4", len(rows))
	}
	for _, row := range rows {
		if len(row) != len(CSVHeader) {
			t.Errorf("row of %d cells, header of %d", len(row), len(CSVHeader))
		}
	}
	if rows[1][2] != "web" || rows[1][8] != "200" || rows[1][12] != "4.15" {
		t.Errorf("web row %v", rows[1])
	}
	b.Reset()
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `a \| pipe and &lt;b&gt;markup&lt;/b&gt;`) {
		t.Errorf("markdown does not escape the note")
	}
	b.Reset()
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"deployment shop/web", "9 PromQL queries", "RISKS", "statefulset pay/db"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestServiceFQDNAndPeakRule(t *testing.T) {
	for in, want := range map[string]string{"authz.auth": "authz.auth.svc.cluster.local", "authz.auth.svc.cluster.local": "authz.auth.svc.cluster.local"} {
		if got, err := ServiceFQDN(in, "cluster.local"); err != nil || got != want {
			t.Errorf("ServiceFQDN(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"authz", "a..b", "a.b.c"} {
		if _, err := ServiceFQDN(bad, "cluster.local"); err == nil {
			t.Errorf("ServiceFQDN(%q) accepted", bad)
		}
	}
	if got := PeakRule(0.99, 5*time.Minute, 7*24*time.Hour); got != "the 99th percentile of 5m rates over 1w" {
		t.Errorf("PeakRule = %q", got)
	}
	if got := PeakRule(0.95, time.Minute, time.Hour); got != "the 95th percentile of 1m rates over 1h" {
		t.Errorf("PeakRule = %q", got)
	}
}
