//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// harness is the control plane of this test binary's Kubernetes tests
// (kube_integration_test.go). Other integration tests of cmd can use it too.
var harness *kubeharness.Harness

const rbacFile = "../deploy/rbac/proxysizer-role.yaml"

func TestMain(m *testing.M) {
	if os.Getenv(loadAgentChildEnv) == "1" { // TestLoadServeAgentProcess's child: the command, no cluster
		os.Exit(m.Run())
	}
	os.Exit(kubeharness.RunTests(m, &harness))
}

func i32(v int32) *int32 { return &v }

// createHPA creates a CPU utilisation HPA for deployment name.
func createHPA(t *testing.T, ns, name string, target int32) {
	t.Helper()
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"team": "shop"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    i32(2), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(target)}}}},
		},
	}
	if _, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(context.Background(), hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createNativeSidecarHPA creates Deployment name (app 500m, a native
// istio-proxy sidecar at 250m) and its HPA at 80%.
func createNativeSidecarHPA(t *testing.T, ns, name string) {
	t.Helper()
	d := kubeharness.NewDeployment(ns, name, 1, nil)
	always := corev1.ContainerRestartPolicyAlways
	d.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "istio-proxy", Image: "registry.invalid/proxyv2:1", RestartPolicy: &always,
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}}}
	harness.CreateDeployment(t, d)
	createHPA(t, ns, name, 80)
}

// runOK runs the CLI and fails the test unless it exits 0.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, args...)
	if code != exitOK {
		t.Fatalf("proxysizer %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

func TestHPACommandAgainstLiveHPA(t *testing.T) {
	ns := harness.Namespace(t, "hpa")
	d := kubeharness.NewDeployment(ns, "web", 1, map[string]string{sizing.AnnotationProxyCPU: "100m", sizing.AnnotationProxyCPULimit: "2"})
	d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1")
	harness.CreateDeployment(t, d)
	createHPA(t, ns, "web", 70)
	_, kubeconfig := harness.RBAC(t, rbacFile, ns, "proxysizer")

	out := runOK(t, "hpa", "--kubeconfig", kubeconfig, "-n", ns, "web", "-o", "json")
	var r struct {
		ServerVersion string `json:"server_version"`
		TargetPercent int    `json:"target_percent"`
		Containers    []struct {
			Name   string  `json:"name"`
			Role   string  `json:"role"`
			Abs    float64 `json:"absolute_target_millicores"`
			Source string  `json:"source"`
		} `json:"containers"`
		AppNow      float64     `json:"app_cpu_at_target_now_millicores"`
		Basis       string      `json:"sidecar_cpu_usage_basis"`
		Rec         *sizing.HPA `json:"recalculation"`
		Assumptions []string    `json:"assumptions"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.ServerVersion != kubeharness.Version {
		t.Errorf("server version %q, want the harness's %s", r.ServerVersion, kubeharness.Version)
	}
	if r.TargetPercent != 70 {
		t.Errorf("target %d%%, want the HPA's 70%%", r.TargetPercent)
	}
	if r.Rec == nil {
		t.Fatalf("no recalculation for a Resource-metric HPA:\n%s", out)
	}
	if len(r.Containers) != 2 {
		t.Fatalf("containers %+v, want the app and the sidecar", r.Containers)
	}
	if r.Containers[0].Abs != 700 {
		t.Errorf("the app's absolute target %vm, want 70%% of 1 = 700m", r.Containers[0].Abs)
	}
	if r.Containers[1].Name != "istio-proxy" || r.Containers[1].Abs != 70 {
		t.Errorf("second container %+v, want istio-proxy at 70%% of 100m = 70m", r.Containers[1])
	}
	if r.Containers[1].Source != "pod-template annotations" {
		t.Errorf("the sidecar's request source %q, want the pod-template annotations", r.Containers[1].Source)
	}
	// The seed's example: 700m / 1100m = 63.6%; the app scales now at 770m - 100m.
	if r.Rec.RequestWeightedTargetPercent != 63.6 {
		t.Errorf("request-weighted target %v%%, want 700/1100 = 63.6%%", r.Rec.RequestWeightedTargetPercent)
	}
	if r.Rec.UsageAwareTargetPercent != 72.7 {
		t.Errorf("usage-aware target %v%%, want (700+100)/1100 = 72.7%%", r.Rec.UsageAwareTargetPercent)
	}
	if r.AppNow != 670 {
		t.Errorf("app at target now %vm, want 770m - 100m = 670m", r.AppNow)
	}
	if !r.Rec.RecommendContainerResource {
		t.Error("a v1.33 server has ContainerResource on by default")
	}
	// The remarks name this command's flags, not plan's.
	if want := "pass --sidecar-cpu-usage with a measured figure"; !strings.HasSuffix(r.Basis, want) {
		t.Errorf("sidecar usage basis %q, want it to end %q", r.Basis, want)
	}
	if !strings.Contains(strings.Join(r.Assumptions, "\n"), "pass --sidecar-cpu-usage (e.g. from `proxysizer sweep`") {
		t.Errorf("assumptions %q lack the --sidecar-cpu-usage remedy", r.Assumptions)
	}

	// The corrected HPA is accepted by the server (server-side apply, dry run).
	manifest := runOK(t, "hpa", "--kubeconfig", kubeconfig, "-n", ns, "web", "-o", "manifests", "--sidecar-cpu-usage", "150m")
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.UnmarshalStrict([]byte(manifest), &hpa); err != nil {
		t.Fatalf("%v\n%s", err, manifest)
	}
	if m := hpa.Spec.Metrics[0]; m.ContainerResource == nil || m.ContainerResource.Container != "app" || *m.ContainerResource.Target.AverageUtilization != 70 {
		t.Errorf("corrected metric %+v, want ContainerResource on app at the original 70%%", m)
	}
	if hpa.Labels["team"] != "shop" {
		t.Errorf("corrected labels %v, want the HPA's own", hpa.Labels)
	}
	if hpa.ResourceVersion != "" || hpa.UID != "" {
		t.Errorf("corrected HPA keeps the server's resourceVersion %q / uid %q", hpa.ResourceVersion, hpa.UID)
	}
	data, _ := json.Marshal(hpa)
	force := true
	if _, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Patch(context.Background(), "web", types.ApplyPatchType, data,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "proxysizer-test", Force: &force}); err != nil {
		t.Errorf("server-side dry run of the corrected HPA: %v\n%s", err, manifest)
	}
	table := runOK(t, "hpa", "--kubeconfig", kubeconfig, "-n", ns, "web")
	for _, want := range []string{"request-weighted target", "63.6%", "ContainerResource", "istio-proxy"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestHPACommandNativeSidecar(t *testing.T) {
	ns := harness.Namespace(t, "native")
	createNativeSidecarHPA(t, ns, "api")
	out := runOK(t, "hpa", "--kubeconfig", harness.Kubeconfig, "-n", ns, "api", "-o", "json")
	var r struct {
		Sidecar string      `json:"sidecar"`
		Rec     *sizing.HPA `json:"recalculation"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Sidecar, "native-sidecar") {
		t.Errorf("sidecar %q, want the native sidecar init container", r.Sidecar)
	}
	if r.Rec == nil {
		t.Fatalf("no recalculation:\n%s", out)
	}
	if r.Rec.SidecarCPURequestMillicores != 250 {
		t.Errorf("sidecar request %dm, want the init container's 250m", r.Rec.SidecarCPURequestMillicores)
	}
	// 80% of 500m = 400m; 400 / 750 = 53.3%.
	if r.Rec.RequestWeightedTargetPercent != 53.3 {
		t.Errorf("request-weighted target %v%%, want 400/750 = 53.3%%", r.Rec.RequestWeightedTargetPercent)
	}
}

func TestPlanManifestsAcceptedByServerDryRun(t *testing.T) {
	ns := harness.Namespace(t, "plan")
	harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 1, nil))
	out := runOK(t, "plan", "--rps", "10000", "--replicas", "20", "--requests-per-call", "2",
		"--app-cpu-request", "1", "--hpa-target", "70", "--k8s-version", "1.33", "--deployment", "web", "--app-container", "app", "-o", "manifests")
	docs := strings.Split(out, "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("want a patch and an HPA, got %d documents:\n%s", len(docs), out)
	}
	patch, err := yaml.YAMLToJSON([]byte(docs[0]))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dry := metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}
	patched, err := harness.Client.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, patch, dry)
	if err != nil {
		t.Fatalf("server-side dry run of the deployment patch: %v\n%s", err, docs[0])
	}
	if patched.Spec.Template.Annotations[sizing.AnnotationProxyCPU] == "" {
		t.Errorf("patch did not set the annotations: %v", patched.Spec.Template.Annotations)
	}
	if live := harness.TemplateAnnotations(t, ns, "web"); len(live) != 0 {
		t.Error("the dry run changed the deployment")
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &hpa); err != nil {
		t.Fatal(err)
	}
	hpa.Namespace = ns
	if _, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, &hpa, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("server-side dry run of the HPA: %v\n%s", err, docs[1])
	}
}

// createService creates a selector-less service with ports and one
// EndpointSlice with ready and not-ready addresses.
func createService(t *testing.T, ns, name string, ports, ready, notReady int) {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	var esPorts []discoveryv1.EndpointPort
	for i := range ports {
		p := int32(8080 + i)
		pn := "p" + string(rune('a'+i))
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: pn, Port: p})
		esPorts = append(esPorts, discoveryv1.EndpointPort{Name: &pn, Port: &p})
	}
	if _, err := harness.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: esPorts,
	}
	yes, no := true, false
	for i := range ready + notReady {
		r := &yes
		if i >= ready {
			r = &no
		}
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.244.9." + string(rune('1'+i))}, Conditions: discoveryv1.EndpointConditions{Ready: r}})
	}
	if _, err := harness.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, es, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

type inventoryOut struct {
	Unscoped   cluster.PricedScope     `json:"without_sidecar_resources"`
	SidecarAPI string                  `json:"sidecar_api"`
	Default    *cluster.PricedSidecar  `json:"with_default_sidecar"`
	Sidecars   []cluster.PricedSidecar `json:"sidecars"`
	Notes      []string                `json:"notes"`
}

func inventory(t *testing.T, kubeconfig, ns string) inventoryOut {
	t.Helper()
	out := runOK(t, "inventory", "--kubeconfig", kubeconfig, "-n", ns, "-o", "json")
	var r inventoryOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

func TestInventoryWithAndWithoutSidecars(t *testing.T) {
	a := harness.Namespace(t, "inv-a")
	b := harness.Namespace(t, "inv-b")
	createService(t, a, "cart", 2, 3, 1) // 2 clusters, 3 ready x 2 ports = 6 endpoints
	createService(t, a, "pay", 1, 2, 0)  // 1 cluster, 2 endpoints
	createService(t, b, "users", 3, 1, 0)
	_, kubeconfig := harness.RBAC(t, rbacFile, a, "proxysizer")

	all, err := harness.Client.CoreV1().Services("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := inventory(t, kubeconfig, a)
	if before.Unscoped.Services != len(all.Items) || before.Unscoped.Clusters < 6 || before.Unscoped.Endpoints < 11 {
		t.Errorf("unscoped %+v with %d services in the cluster", before.Unscoped, len(all.Items))
	}
	if before.SidecarAPI == "" && !strings.Contains(strings.Join(before.Notes, " "), "not installed") {
		t.Errorf("no Sidecar CRD must be said: %+v", before.Notes)
	}

	harness.InstallSidecarCRD(t)
	harness.CreateSidecar(t, a, "default", nil, "./*", "istio-system/*")
	harness.CreateSidecar(t, a, "cart-only", map[string]string{"app": "web"}, "./cart."+a+".svc.cluster.local", b+"/*")
	r := inventory(t, kubeconfig, a)
	if r.SidecarAPI != "networking.istio.io/v1" {
		t.Errorf("Sidecar API %q, want networking.istio.io/v1", r.SidecarAPI)
	}
	if len(r.Sidecars) != 2 {
		t.Errorf("%d Sidecars, want the namespace's 2: %+v", len(r.Sidecars), r.Sidecars)
	}
	if r.Default == nil || r.Default.Name != "default" {
		t.Fatalf("default Sidecar %+v, want the namespace's \"default\"", r.Default)
	}
	if s := r.Default.Scope; s.Services != 2 || s.Clusters != 3 || s.Endpoints != 8 || s.PlanFlags != "--clusters 3 --endpoints 8" {
		t.Errorf("default Sidecar scope %+v, want 2 services, 3 clusters, 8 endpoints", s)
	}
	for _, s := range r.Sidecars {
		if s.Name == "cart-only" && (s.Scope.Services != 2 || s.Scope.Clusters != 5 || s.Scope.Endpoints != 9) {
			t.Errorf("cart-only scope %+v, want cart + users: 2 services, 5 clusters, 9 endpoints", s.Scope)
		}
	}
	if r.Default.Scope.MemoryBytes >= r.Unscoped.MemoryBytes {
		t.Errorf("a scoped proxy must be expected to use less memory: %v vs %v", r.Default.Scope.MemoryBytes, r.Unscoped.MemoryBytes)
	}
	// b has no Sidecar of its own and the root namespace none either.
	rb := inventory(t, harness.Kubeconfig, b)
	if rb.Default != nil {
		t.Errorf("namespace %s has no default Sidecar, got %+v", b, rb.Default)
	}
}

func TestRestoreCommandAndRBAC(t *testing.T) {
	ns := harness.Namespace(t, "restore")
	before := harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 2, map[string]string{sizing.AnnotationProxyConfig: "concurrency: 8\n"}))
	rc, kubeconfig := harness.RBAC(t, rbacFile, ns, "proxysizer")
	journal := filepath.Join(t.TempDir(), "web.journal.json")
	c, err := cluster.NewForClient(kubeharness.ClientFor(t, rc), ns, cluster.Config{Deployment: "web", JournalPath: journal, RolloutTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Apply(ctx, results.Setting{Concurrency: 2, CPULimitMillicores: 1000}); err != nil {
		t.Fatal(err)
	}
	// The sweep "crashed" here, leaving a load generator behind: restore
	// from the journal with the CLI.
	lbl, err := labels.ConvertSelectorToLabelsMap(kube.LoadPodSelector("web"))
	if err != nil {
		t.Fatal(err)
	}
	leftover := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-load-left", Namespace: ns, Labels: lbl},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "load-agent", Image: kube.DefaultLoadImage("dev")}}}}
	if _, err := harness.Client.CoreV1().Pods(ns).Create(ctx, leftover, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out := runOK(t, "restore", "--kubeconfig", kubeconfig, "--journal", journal)
	for _, want := range []string{"original sidecar annotations restored", "(1 setting(s) undone", "1 leftover load pod(s) deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("restore output lacks %q:\n%s", want, out)
		}
	}
	// Deletion is graceful: accept pods already marked for deletion.
	if n := harness.LivePods(t, ns, kube.LoadPodSelector("web")); n != 0 {
		t.Errorf("%d load pod(s) left after restore", n)
	}
	harness.AssertTemplateRestored(t, before)
	if out := runOK(t, "restore", "--kubeconfig", kubeconfig, "--journal", journal); !strings.Contains(out, "already restored") {
		t.Errorf("second restore: %q", out)
	}
	code, stdout, stderr := run(t, "restore", "--kubeconfig", kubeconfig, "--journal", filepath.Join(t.TempDir(), "none.json"))
	if code != exitBadInput || stdout != "" || !strings.Contains(stderr, "--journal") {
		t.Errorf("missing journal: exit %d, %q, %q", code, stdout, stderr)
	}
	// A runtime failure (the token cannot read another namespace) exits 1.
	j, _ := cluster.ReadJournal(journal)
	j.Namespace, j.RestoredAt = "default", nil
	other := filepath.Join(t.TempDir(), "other.json")
	if err := cluster.WriteJournal(other, j); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "restore", "--kubeconfig", kubeconfig, "--journal", other); code != exitFailure || !strings.Contains(stderr, "forbidden") {
		t.Errorf("forbidden restore: exit %d, %q", code, stderr)
	}
}
