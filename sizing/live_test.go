package sizing

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/internal/input"
)

func seedPod() []PodContainer {
	return []PodContainer{
		{Name: "app", Role: RoleApp, RequestMillicores: 1000, HasRequest: true},
		{Name: "istio-proxy", Role: RoleSidecar, RequestMillicores: 100, HasRequest: true, Proxy: true,
			Source: "pod-template annotations"},
	}
}

func TestRecalculateLiveHPASeedExample(t *testing.T) {
	// The seed: app 1 CPU at 70%, a 100m sidecar. Request-weighted: 700/1100.
	live, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", Containers: seedPod(), TargetPercent: 70,
		AppContainer: "app", SidecarFound: true})
	if err != nil {
		t.Fatal(err)
	}
	h := live.Recalculation
	if h == nil {
		t.Fatal("no recalculation for a Resource-metric HPA")
	}
	if h.RequestWeightedTargetPercent != 63.6 {
		t.Errorf("request-weighted %v, want 63.6", h.RequestWeightedTargetPercent)
	}
	// The sidecar's usage is assumed to be its request: (700 + 100) / 1100 = 72.7%.
	if h.UsageAwareTargetPercent != 72.7 || h.ManifestTargetPercent != 72 {
		t.Errorf("usage-aware %v manifest %d, want 72.7 and 72", h.UsageAwareTargetPercent, h.ManifestTargetPercent)
	}
	if live.PodRequestsMillicores != 1100 {
		t.Errorf("pod requests %dm, want 1100m", live.PodRequestsMillicores)
	}
	// 70% of 1100m = 770m, less the sidecar's 100m.
	if live.AppCPUAtTargetNowMillicores != 670 {
		t.Errorf("app at target now %vm, want 670m", live.AppCPUAtTargetNowMillicores)
	}
	if h.SidecarCPURequestSource != "pod-template annotations" {
		t.Errorf("request source not carried: %q", h.SidecarCPURequestSource)
	}
	if want := "assumed equal to the sidecar's CPU request"; live.SidecarCPUAtTargetBasis != want || h.SidecarCPUAtAppTargetBasis != want {
		t.Errorf("basis %q / %q, want the request assumed", live.SidecarCPUAtTargetBasis, h.SidecarCPUAtAppTargetBasis)
	}
	if containsAny(h.Notes, "planned per-pod load") {
		t.Errorf("plan-only assumption in a live HPA: %q", h.Notes)
	}
	if len(live.Assumptions) != 2 || !strings.HasPrefix(live.Assumptions[0], "the sidecar's CPU at the app's target is taken as its request") {
		t.Errorf("assumptions %q, want the usage assumed then the original target", live.Assumptions)
	}
	if want := "original absolute target is 700m, 70% of the app's 1 CPU request"; !strings.Contains(live.Assumptions[len(live.Assumptions)-1], want) {
		t.Errorf("original target assumption %q lacks %q", live.Assumptions[len(live.Assumptions)-1], want)
	}
	if h.RecommendContainerResource || !strings.Contains(h.MetricReason, "the Kubernetes version is not known") {
		t.Errorf("no version given: want the Resource metric, got %q", h.MetricReason)
	}
	if got := live.Containers; len(got) != 2 || got[0].AbsoluteTargetMillicores != 700 || got[1].AbsoluteTargetMillicores != 70 {
		t.Errorf("container targets %+v, want 700m and 70m", got)
	}
}

func TestRecalculateLiveHPAMeasuredUsage(t *testing.T) {
	live, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", Containers: seedPod(), TargetPercent: 70,
		AppContainer: "app", SidecarFound: true, SidecarCPUAtTargetMillicores: 150})
	if err != nil {
		t.Fatal(err)
	}
	// (700 + 150) / 1100 = 77.3%; the app scales now at 770m - 150m.
	if h := live.Recalculation; h.UsageAwareTargetPercent != 77.3 || h.SidecarCPUAtAppTargetBasis != string(FieldSidecarCPUUsage) {
		t.Errorf("usage-aware %v basis %q, want 77.3 from the given figure", h.UsageAwareTargetPercent, h.SidecarCPUAtAppTargetBasis)
	}
	if live.AppCPUAtTargetNowMillicores != 620 {
		t.Errorf("app at target now %vm, want 620m", live.AppCPUAtTargetNowMillicores)
	}
	if containsAny(live.Assumptions, "taken as its request") {
		t.Errorf("a measured usage is not an assumption: %q", live.Assumptions)
	}
}

func TestRecalculateLiveHPAGivenRequestWithoutSidecar(t *testing.T) {
	app := []PodContainer{{Name: "app", Role: RoleApp, RequestMillicores: 500, HasRequest: true}, {Name: "log", Role: RoleNativeSidecar}}
	live, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", Containers: app, TargetPercent: 80, AppContainer: "app",
		SidecarCPURequestMillicores: 250, K8sVersion: version.MustParseGeneric("v1.33.4")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(live.Containers); n != 3 || live.Containers[2].Name != "istio-proxy" || live.Containers[2].Source != string(FieldSidecarCPURequest) {
		t.Fatalf("the given sidecar is listed with its source: %+v", live.Containers)
	}
	if len(live.Warnings) != 1 || !strings.Contains(live.Warnings[0], `container "log" has no CPU request`) {
		t.Errorf("warnings %q, want the log container's missing request", live.Warnings)
	}
	if containsAny(live.Assumptions, "no sidecar found") {
		t.Error("a given request is not the no-sidecar assumption")
	}
	h := live.Recalculation
	// 80% of 500m = 400m; 400 / 750 = 53.3%.
	if h.RequestWeightedTargetPercent != 53.3 || !h.RecommendContainerResource || h.Metric.ContainerResource.Container != "app" {
		t.Errorf("recalculation %+v", h)
	}
	if got := *h.Metric.ContainerResource.Target.AverageUtilization; got != 80 {
		t.Errorf("ContainerResource target %d, want the original 80", got)
	}
}

func TestRecalculateLiveHPAContainerMetricInPlace(t *testing.T) {
	live, err := RecalculateLiveHPA(LiveHPAInput{Containers: seedPod(), TargetPercent: 60, TargetContainer: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if live.Recalculation != nil || !containsAny(live.Warnings, `already targets container "app" alone`) || len(live.Containers) != 2 {
		t.Errorf("an HPA on the app container alone needs nothing: %+v", live)
	}
}

func TestRecalculateLiveHPAWithoutAppRequest(t *testing.T) {
	_, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", TargetPercent: 70,
		Containers: []PodContainer{{Name: "app", Role: RoleApp}}})
	if err == nil || !strings.Contains(err.Error(), "deployment shop/web have no CPU request") {
		t.Errorf("no app request: %v", err)
	}
}

// Library remarks name no command-line flag: the command adds its own.
func TestHPARemarksNameNoFlag(t *testing.T) {
	for _, r := range hpaRemarks(t, nil) {
		if strings.Contains(r, "--") {
			t.Errorf("remark %q names a flag", r)
		}
	}
}

// With a caller's names, the remarks that ask for an input ask for it by
// the caller's name, and only those the caller takes: the same remarks
// without the names state the facts instead.
func TestHPARemarksAskForWhatTheCallerTakes(t *testing.T) {
	flags := input.Names{FieldAppCPUPerKRPS: "--app-cpu-per-krps", FieldSidecarCPURequest: "--sidecar-cpu-request",
		FieldSidecarCPUUsage: "--sidecar-cpu-usage", FieldK8sVersion: "--k8s-version", FieldSweep: "proxysizer sweep"}
	hasAll(t, "the remarks with the flags' names", strings.Join(hpaRemarks(t, flags), "\n"), []string{
		"pass --app-cpu-per-krps to tie the sidecar's CPU to the app's",
		"the planned 1000 sidecar RPS per pod (no --app-cpu-per-krps)",
		"--app-cpu-per-krps 0.500: the app reaches its target at 1400 inbound RPS per pod",
		"Resource metric at 108%: no --k8s-version given",
		"the pod's requests are the app's; pass --sidecar-cpu-request if a sidecar is injected",
		"assumed equal to the sidecar's CPU request; pass --sidecar-cpu-usage with a measured figure",
		"pass --sidecar-cpu-usage (e.g. from `proxysizer sweep` or container_cpu_usage_seconds_total",
	})
	hasAll(t, "the remarks in domain words", strings.Join(hpaRemarks(t, nil), "\n"), []string{
		"the app's CPU per 1000 RPS would tie the sidecar's CPU to the app's",
		"(the app's CPU per 1000 RPS not known)",
		"the app's 0.500 cores per 1000 inbound RPS: the app reaches its target",
		"the Kubernetes version is not known",
		"give the sidecar's CPU request if a sidecar is injected",
		"a measured figure (from a sweep or container_cpu_usage_seconds_total",
	})
	// Another caller names only some inputs: it is asked for those alone.
	some := strings.Join(hpaRemarks(t, input.Names{FieldSidecarCPURequest: "--sidecar-cpu-request"}), "\n")
	if !strings.Contains(some, "pass --sidecar-cpu-request if") || !strings.Contains(some, "would tie the sidecar's CPU") {
		t.Errorf("a caller taking only the sidecar's request:\n%s", some)
	}
}

func hasAll(t *testing.T, what, text string, wants []string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lack %q:\n%s", what, want, text)
		}
	}
}

// hpaRemarks are every remark of two planned HPAs (the app's cost unknown
// and given) and a live one with no sidecar found, worded through n.
func hpaRemarks(t *testing.T, n input.Names) []string {
	t.Helper()
	in := baseInput()
	in.Names = n
	in.HPA = hpaInput(1000, 70, 0)
	plans := []*HPA{mustRecommend(t, in).HPA}
	in.HPA.AppCoresPerKRPS = 0.5
	plans = append(plans, mustRecommend(t, in).HPA)
	live, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", TargetPercent: 70, Names: n,
		Containers: []PodContainer{{Name: "app", Role: RoleApp, RequestMillicores: 1000, HasRequest: true}}})
	if err != nil {
		t.Fatal(err)
	}
	found, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", TargetPercent: 70, Names: n, Containers: seedPod(), SidecarFound: true})
	if err != nil {
		t.Fatal(err)
	}
	plans = append(plans, live.Recalculation, found.Recalculation)
	remarks := append(append(append([]string{}, live.Assumptions...), live.Warnings...), found.Assumptions...)
	for _, h := range plans {
		remarks = append(append(remarks, h.Notes...), h.MetricReason, h.SidecarCPURequestSource, h.SidecarCPUAtAppTargetBasis)
	}
	return remarks
}
