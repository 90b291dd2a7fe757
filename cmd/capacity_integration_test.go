//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/internal/testenv"
	psmodel "github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

const capacityRBAC = "../deploy/rbac/proxysizer-capacity.yaml"

// The capacity plan end to end: the control plane's Deployments, a
// StatefulSet, HPAs, sidecar annotations and Sidecars, and a real
// Prometheus on a day of history generated from a known truth. The derived
// hops, peaks, usage, predictions, recommendations and savings are checked
// against the truth; the missing metrics degrade with their reasons; the
// README's example is the table as it is now; the patches apply (server dry
// run); the HTML report renders in Chromium; and a token bound only to the
// shipped read-only roles gives the same plan.
func TestCapacityEndToEnd(t *testing.T) {
	f := setupCapacityFixture(t)
	out := runOK(t, f.capacityArgs(harness.Kubeconfig, "--namespaces", "shop,pay,fleet", "-o", "json")...)
	var r capacity.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %.2000s", err, out)
	}
	if r.Telemetry.QueriesSent != 9 || len(r.Telemetry.Queries) != 9 {
		t.Errorf("%d queries sent (%d listed), want the fixed 9", r.Telemetry.QueriesSent, len(r.Telemetry.Queries))
	}
	if len(r.Workloads) != len(f.workloads) {
		t.Fatalf("%d workloads planned, want %d", len(r.Workloads), len(f.workloads))
	}
	byKey := map[string]capacity.WorkloadReport{}
	for _, w := range r.Workloads {
		byKey[w.Namespace+"/"+w.Name] = w
	}
	t.Run("truth", func(t *testing.T) { checkCapacityTruth(t, f, byKey) })
	t.Run("degraded", func(t *testing.T) { checkCapacityDegraded(t, byKey, r) })
	t.Run("fleet", func(t *testing.T) { checkCapacityFleet(t, f, r) })
	t.Run("readme", func(t *testing.T) { checkCapacityREADME(t, f) })
	t.Run("outputs", func(t *testing.T) { checkCapacityOutputs(t, f, byKey) })
	t.Run("rbac", func(t *testing.T) { checkCapacityRBAC(t, f, r) })
	t.Run("unreachable", func(t *testing.T) {
		args := f.capacityArgs(harness.Kubeconfig, "-n", "shop")
		for i, a := range args {
			if a == f.promURL {
				args[i] = "http://127.0.0.1:1"
			}
		}
		code, stdout, stderr := run(t, args...)
		if code != exitFailure || stdout != "" || !strings.Contains(stderr, "prometheus at http://127.0.0.1:1 is unreachable") {
			t.Errorf("an unreachable Prometheus: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Abs(want) || math.IsNaN(got) {
		t.Errorf("%s = %.4g, want %.4g +/- %.1f%%", what, got, want, tol*100)
	}
}

// expectedPlan is the sizing core on the truth's own figures.
func expectedPlan(t *testing.T, w fixtureWorkload, cfg psmodel.Config) sizing.Plan {
	t.Helper()
	prof, err := profiles.Load(profiles.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	var out, authz float64
	for _, c := range w.truth.Calls {
		if strings.HasPrefix(c.Service, "authz.") {
			authz += c.PerInbound
		} else {
			out += c.PerInbound
		}
	}
	p, err := sizing.Recommend(sizing.Input{AppRPSPerPod: w.truth.PeakInboundPerPod, Replicas: int(w.replicas),
		Fanout: psmodel.Fanout{Outbound: out, Authz: authz, RetryRatio: w.truth.RetryRatio}, Profile: prof,
		Config: cfg, Headroom: sizing.DefaultHeadroom, MemoryLimitRatio: sizing.DefaultMemoryLimitRatio})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkCapacityTruth(t *testing.T, f *capacityFixture, by map[string]capacity.WorkloadReport) {
	web := by["shop/web"]
	truth := f.byKey("shop/web").truth
	if web.Status != capacity.StatusSized {
		t.Fatalf("web: %s (%s)", web.Status, web.StatusReason)
	}
	l := web.Load
	// The hops per inbound call, measured: 2 calls to cart, 1 authz call, 5% of both retried.
	near(t, "web outbound per inbound", l.Hops.Outbound, 2, 0.01)
	near(t, "web authz per inbound", l.Hops.Authz, 1, 0.01)
	near(t, "web retries per inbound", l.Hops.Retries, 0.15, 0.02)
	near(t, "web requests per inbound call", l.Hops.Total, truth.Hops(), 0.01)
	// The 99th percentile of a cosine day's 5-minute rates is within 0.2% of its top.
	near(t, "web inbound RPS per pod at the peak", l.InboundRPSPerPodAtPeak, 300, 0.01)
	near(t, "web sidecar RPS per pod at the peak", l.SidecarRPSPerPodAtPeak, truth.SidecarRPS(300), 0.015)
	if !slices.Equal(l.Destinations, []string{svc("authz", "auth"), svc("cart", "shop")}) {
		t.Errorf("web destinations %v", l.Destinations)
	}
	c := web.Current
	if c.CPURequestMillicores != 100 || c.CPULimitMillicores != 1000 || c.Concurrency != 2 || c.ConcurrencySource != "annotation proxy.istio.io/config" {
		t.Errorf("web now: %dm/%dm, concurrency %d from %q", c.CPURequestMillicores, c.CPULimitMillicores, c.Concurrency, c.ConcurrencySource)
	}
	// The measured CPU at the peak follows the true line within its noise.
	near(t, "web sidecar CPU at the peak", *c.CPUAtPeakMillicores, truth.ProxyCores(300)*1000, 0.05)
	near(t, "web throttled at the peak", *c.ThrottledAtPeak, 0.3, 0.05)
	near(t, "web sidecar memory", *c.MemoryMaxBytes, 70<<20, 0)
	// The profile's prediction (istio-1.24: 0.2 cores per 1000 RPS) against the truth's 0.3 + idle.
	m := web.Model
	if m == nil {
		t.Fatal("web: no model check")
	}
	near(t, "web predicted CPU", m.PredictedMillicores, 0.2*l.SidecarRPSPerPodAtPeak, 1e-9)
	near(t, "web model error", m.Error, 0.2*truth.SidecarRPS(300)/(truth.ProxyCores(300)*1000)-1, 0.06)

	// Configuration: shop's default Sidecar keeps shop (4 services, 10
	// endpoints) and istio-system (istiod's 4 ports, 1 endpoint each);
	// scoped to what web called, istiod, cart and authz.
	if cfg := web.Config; cfg.Clusters != 8 || cfg.Endpoints != 14 || cfg.ScopedClusters != 6 || cfg.ScopedEndpoints != 8 || cfg.Source != "Sidecar shop/default" {
		t.Errorf("web config %+v, want 8 clusters, 14 endpoints, scoped 6 and 8", cfg)
	}
	prof, _ := profiles.Load(profiles.DefaultName)
	want := prof.Memory.Estimate(psmodel.Config{Clusters: 8, Endpoints: 14}, web.Recommendation.Concurrency).Total -
		prof.Memory.Estimate(psmodel.Config{Clusters: 6, Endpoints: 8}, web.Recommendation.Concurrency).Total
	near(t, "web scoped Sidecar's saving per pod", web.Config.MemorySavedPerPodBytes, want, 1e-9)
	near(t, "web scoped Sidecar's saving", web.Config.MemorySavedBytes, want*3, 1e-9)

	// Every workload sized from its traffic gets what the sizing core gives
	// for its truth, and its totals are its figures times its replicas.
	for key, wr := range by {
		if wr.Status != capacity.StatusSized {
			continue
		}
		fw := f.byKey(key)
		exp := expectedPlan(t, fw, psmodel.Config{Clusters: wr.Config.Clusters, Endpoints: wr.Config.Endpoints})
		rec := wr.Recommendation
		near(t, key+" recommended CPU request", float64(rec.CPURequestMillicores), float64(exp.Sidecar.CPURequestMillicores), 0.03)
		if rec.MemoryRequestBytes != exp.Sidecar.MemoryRequestBytes || rec.Concurrency != exp.Concurrency {
			t.Errorf("%s: memory %d, concurrency %d; the truth's plan %d, %d", key, rec.MemoryRequestBytes, rec.Concurrency, exp.Sidecar.MemoryRequestBytes, exp.Concurrency)
		}
		n := float64(fw.replicas)
		near(t, key+" CPU requested", wr.Totals.CPURequestedMillicores, float64(wr.Current.CPURequestMillicores)*n, 1e-9)
		near(t, key+" CPU recommended", wr.Totals.CPURecommendedMillicores, float64(rec.CPURequestMillicores)*n, 1e-9)
		if wr.Current.CPUAtPeakMillicores != nil {
			near(t, key+" sidecar CPU at the peak", *wr.Current.CPUAtPeakMillicores, fw.truth.ProxyCores(fw.truth.PeakInboundPerPod)*1000, 0.05)
		}
	}
	// The HPA's target with the recommended sidecar: the sizing core on the app's 500m at 70%.
	if h := web.Recommendation.HPA; h == nil || h.OriginalTargetPercent != 70 || h.AppCPURequestMillicores != 500 || !h.RecommendContainerResource {
		t.Errorf("web HPA %+v, want the 70%% target recalculated (ContainerResource on 1.33)", h)
	}
	// Risks, each where the truth puts it.
	want2 := map[string][]string{
		"shop/web":   {capacity.RiskThrottled, capacity.RiskUsageAboveRequest, capacity.RiskConcurrencyAbove},
		"shop/cart":  {capacity.RiskUsageAboveRequest},
		"shop/db":    {capacity.RiskPartialAnnotations},
		"shop/batch": {capacity.RiskMissingCPURequest},
	}
	for key, wr := range by {
		var kinds []string
		for _, rk := range wr.Risks {
			kinds = append(kinds, rk.Kind)
		}
		// Elsewhere, usage above the request wherever the truth's CPU at the peak exceeds it.
		if fw := f.byKey(key); want2[key] == nil && !fw.truth.NoCAdvisor && !fw.truth.NoSidecar && wr.Current.CPURequestMillicores > 0 &&
			fw.truth.ProxyCores(fw.truth.PeakInboundPerPod)*1000 > float64(wr.Current.CPURequestMillicores) {
			want2[key] = []string{capacity.RiskUsageAboveRequest}
		}
		if !slices.Equal(kinds, want2[key]) && !(len(kinds) == 0 && len(want2[key]) == 0) {
			t.Errorf("%s risks %v, want %v", key, kinds, want2[key])
		}
	}
}

func checkCapacityDegraded(t *testing.T, by map[string]capacity.WorkloadReport, r capacity.Report) {
	if w := by["shop/legacy"]; w.Status != capacity.StatusNoSidecar || w.Recommendation != nil {
		t.Errorf("legacy (no sidecar): %s %q", w.Status, w.StatusReason)
	}
	if w := by["pay/worker"]; w.Status != capacity.StatusNoTraffic || !strings.Contains(w.StatusReason, "received none") {
		t.Errorf("worker (outbound only): %s %q", w.Status, w.StatusReason)
	}
	if w := by["shop/batch"]; w.Status != capacity.StatusIdle || w.Recommendation == nil || w.Recommendation.CPURequestMillicores != 10 {
		t.Errorf("batch (no requests): %s %q %+v", w.Status, w.StatusReason, w.Recommendation)
	}
	// No cAdvisor series and no retry counter: sized from its traffic, the
	// model not checked, and each gap said.
	led := by["pay/ledger"]
	if led.Status != capacity.StatusSized || led.Model != nil || led.Current.CPUAtPeakMillicores != nil {
		t.Errorf("ledger: %s, model %+v", led.Status, led.Model)
	}
	if !slices.ContainsFunc(led.Notes, func(n string) bool {
		return strings.Contains(n, "no envoy_cluster_upstream_rq_retry series for this workload")
	}) {
		t.Errorf("ledger notes %v lack the missing retry counter", led.Notes)
	}
	if !strings.HasPrefix(led.Recommendation.HPAChange, "none: HPA ledger already targets container \"app\"") {
		t.Errorf("ledger HPA change %q", led.Recommendation.HPAChange)
	}
	// Injected, shown by the telemetry only: the injector's resources and the mesh's concurrency.
	gw := by["pay/gateway"]
	if c := gw.Current; c.SidecarKind != "telemetry" || c.CPURequestMillicores != 100 || c.CPULimitMillicores != 2000 || c.Concurrency != 2 ||
		!strings.Contains(c.Resources.Source, "istio-sidecar-injector") || c.ConcurrencySource != "the mesh's defaultConfig" {
		t.Errorf("gateway now %+v", c)
	}
	if c := by["shop/catalog"].Current; c.SidecarKind != "container" || c.CPURequestMillicores != 500 || c.MemoryRequestBytes != 256<<20 {
		t.Errorf("catalog (manual injection) now %+v", c)
	}
	if c := by["shop/db"].Current; by["shop/db"].Kind != "StatefulSet" || c.CPURequestMillicores != 300 || c.MemoryRequestBytes != 0 {
		t.Errorf("db (a StatefulSet, proxyCPU alone) now %+v", c)
	}
}

func checkCapacityFleet(t *testing.T, f *capacityFixture, r capacity.Report) {
	var sum capacity.Totals
	for _, ns := range r.ByNamespace {
		sum.CPURequestedMillicores += ns.CPURequestedMillicores
		sum.CPURecommendedMillicores += ns.CPURecommendedMillicores
		sum.MemoryRequestedBytes += ns.MemoryRequestedBytes
		sum.Sized += ns.Sized
	}
	if sum.Sized != r.Total.Sized || math.Abs(sum.CPURequestedMillicores-r.Total.CPURequestedMillicores) > 1e-6 ||
		math.Abs(sum.CPURecommendedMillicores-r.Total.CPURecommendedMillicores) > 1e-6 {
		t.Errorf("namespaces sum to %+v, total %+v", sum, r.Total)
	}
	near(t, "total CPU saving", r.Total.CPUSavingMillicores, r.Total.CPURequestedMillicores-r.Total.CPURecommendedMillicores, 1e-9)
	// The fleet namespace alone: eight services of one true cost, 0.01 +
	// 0.3 cores per 1000 sidecar RPS; the fleet's own line recovers it.
	out := runOK(t, f.capacityArgs(harness.Kubeconfig, "-n", "fleet", "-o", "json")...)
	var fr capacity.Report
	if err := json.Unmarshal([]byte(out), &fr); err != nil {
		t.Fatal(err)
	}
	if fr.Model.Fit == nil || fr.Model.Workloads != 8 {
		t.Fatalf("fleet model %+v", fr.Model)
	}
	near(t, "fleet fit cores per 1000 RPS", fr.Model.Fit.CoresPerKRPS, 0.3, 0.05)
	if math.Abs(fr.Model.Fit.IdleCores-0.01) > 0.01 {
		t.Errorf("fleet fit idle %.4f, want 0.01 +/- 0.01", fr.Model.Fit.IdleCores)
	}
	// The profile's 0.2 against the truth's 0.3: about a third under.
	if fr.Model.TotalError > -0.25 || fr.Model.TotalError < -0.4 || !strings.Contains(fr.Model.Verdict, "under-predicts") {
		t.Errorf("fleet model error %.3f (%s), want about -0.33", fr.Model.TotalError, fr.Model.Verdict)
	}
	// fleet has no Sidecar: its proxies hold every service of the cluster.
	for _, w := range fr.Workloads {
		if w.Config.Source != "no Sidecar applies: every service of the mesh" || w.Config.Clusters < 60+8+4 {
			t.Errorf("%s config %+v, want every service", w.ID(), w.Config)
		}
	}
}

// readmeCapacityArgs is the README's worked example (with this run's
// Prometheus URL).
func (f *capacityFixture) readmeArgs(url string) []string {
	return []string{"capacity", "--namespaces", "shop,pay", "--prometheus-url", url, "--window", "1d", "--at", fixtureEnd.Format(time.RFC3339), "--authz-upstreams", "authz.auth"}
}

func checkCapacityREADME(t *testing.T, f *capacityFixture) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{}, f.readmeArgs(f.promURL)...)
	args = append(args[:1], append([]string{"--kubeconfig", harness.Kubeconfig}, args[1:]...)...)
	out := runOK(t, args...)
	block := "$ proxysizer " + joinArgs(f.readmeArgs("http://prometheus.istio-system:9090")) + "\n" + out
	if !strings.Contains(string(readme), block) {
		if dir := os.Getenv("PROXYSIZER_TEST_OUT"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "capacity-readme.txt"), []byte(block), 0o644)
		}
		t.Errorf("README.md does not hold the capacity example as it is now:\n%s", block)
	}
}

func checkCapacityOutputs(t *testing.T, f *capacityFixture, by map[string]capacity.WorkloadReport) {
	dir := t.TempDir()
	out := runOK(t, f.capacityArgs(harness.Kubeconfig, "--namespaces", "shop,pay", "--out", dir)...)
	if !strings.Contains(out, "patches/") {
		t.Errorf("--out listing %q", out)
	}
	for _, name := range []string{"report.html", "report.md", "report.json", "workloads.csv", "patches/shop/deployment-web.yaml",
		"patches/shop/hpa-web.yaml", "patches/shop/statefulset-db.yaml", "patches/shop/sidecar-web.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "patches/shop/deployment-legacy.yaml")); err == nil {
		t.Error("a patch for legacy, which has no sidecar")
	}
	// The patch applies to the live Deployment (server-side dry run) and
	// sets the recommendation, keeping the other ProxyConfig fields.
	data, err := os.ReadFile(filepath.Join(dir, "patches/shop/deployment-web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	patch, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := harness.Client.AppsV1().Deployments("shop").Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("the web patch: %v\n%s", err, data)
	}
	rec := by["shop/web"].Recommendation
	a := d.Spec.Template.Annotations
	for _, k := range []string{sizing.AnnotationProxyCPU, sizing.AnnotationProxyCPULimit, sizing.AnnotationProxyMemory, sizing.AnnotationProxyMemoryLimit} {
		if a[k] != rec.Annotations[k] {
			t.Errorf("patched %s = %q, want %q", k, a[k], rec.Annotations[k])
		}
	}
	if cfg := a[sizing.AnnotationProxyConfig]; !strings.Contains(cfg, "concurrency: 1") || !strings.Contains(cfg, "terminationDrainDuration: 20s") {
		t.Errorf("patched proxy.istio.io/config %q, want concurrency 1 and the drain duration kept", cfg)
	}
	hdata, err := os.ReadFile(filepath.Join(dir, "patches/shop/hpa-web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	hpatch, _ := yaml.YAMLToJSON(hdata)
	h, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers("shop").Patch(ctx, "web", types.StrategicMergePatchType, hpatch, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("the HPA patch: %v\n%s", err, hdata)
	}
	if m := h.Spec.Metrics; len(m) != 1 || m[0].ContainerResource == nil || m[0].ContainerResource.Container != "app" || *m[0].ContainerResource.Target.AverageUtilization != 70 {
		t.Errorf("patched HPA metrics %+v, want ContainerResource on app at 70%%", m)
	}
	checkCapacityHTML(t, filepath.Join(dir, "report.html"))
}

// checkCapacityHTML loads the report in headless Chromium (no network) and
// checks that every chart drew its series.
func checkCapacityHTML(t *testing.T, file string) {
	_, got := testenv.RequireChromium(t).Load(t, file)
	if got.ECharts == "" || len(got.Errors) > 0 || len(got.Charts) != 6 {
		t.Fatalf("render-check: ECharts %q, %d charts, errors %v", got.ECharts, len(got.Charts), got.Errors)
	}
	for _, c := range got.Charts {
		if len(c.Series) == 0 || c.Series[0].Points == 0 {
			t.Errorf("chart %s drew no points: %+v", c.ID, c.Series)
		}
	}
}

// The shipped read-only roles are enough, and no more.
func checkCapacityRBAC(t *testing.T, f *capacityFixture, admin capacity.Report) {
	rc, kubeconfig := harness.RBAC(t, capacityRBAC, fixtureIstio, "capacity-reader")
	out := runOK(t, f.capacityArgs(kubeconfig, "--namespaces", "shop,pay,fleet", "-o", "json")...)
	var r capacity.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Workloads) != len(admin.Workloads) || r.Total != admin.Total {
		t.Errorf("with the read-only token: %d workloads, total %+v; with admin: %d, %+v", len(r.Workloads), r.Total, len(admin.Workloads), admin.Total)
	}
	for _, n := range r.Notes {
		if strings.Contains(n, "not readable") {
			t.Errorf("the read-only token missed a read: %s", n)
		}
	}
	c := kubeharness.ClientFor(t, rc)
	ctx := context.Background()
	_, err := c.AppsV1().Deployments("shop").Patch(ctx, "web", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	kubeharness.Forbidden(t, "patching a deployment", err)
	_, err = c.CoreV1().Secrets("shop").List(ctx, metav1.ListOptions{})
	kubeharness.Forbidden(t, "listing secrets", err)
	_, err = c.CoreV1().ConfigMaps("shop").List(ctx, metav1.ListOptions{})
	kubeharness.Forbidden(t, "listing configmaps", err)
	_, err = c.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	kubeharness.Forbidden(t, "getting a deployment (list only)", err)
	err = c.CoreV1().Pods("shop").Delete(ctx, "db-0", metav1.DeleteOptions{})
	kubeharness.Forbidden(t, "deleting a pod", err)
}
