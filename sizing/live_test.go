package sizing

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/version"
)

func seedPod() []PodContainer {
	return []PodContainer{
		{Name: "app", Role: RoleApp, RequestMillicores: 1000, HasRequest: true},
		{Name: "istio-proxy", Role: RoleSidecar, RequestMillicores: 100, HasRequest: true, Proxy: true,
			Source: Remark{Kind: RemarkRequestFromCluster, Text: "pod-template annotations"}},
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
	if h.SidecarCPURequestSource.Kind != RemarkRequestFromCluster || h.SidecarCPURequestSource.Text != "pod-template annotations" {
		t.Errorf("request source not carried: %+v", h.SidecarCPURequestSource)
	}
	if live.SidecarCPUAtTargetBasis.Kind != BasisRequest || h.SidecarCPUAtAppTargetBasis.Kind != BasisRequest {
		t.Errorf("basis %+v / %+v, want the request assumed", live.SidecarCPUAtTargetBasis, h.SidecarCPUAtAppTargetBasis)
	}
	for _, n := range h.Notes {
		if n.Kind == RemarkAppTargetAtPlannedLoad {
			t.Errorf("plan-only assumption in a live HPA: %q", n.Text)
		}
	}
	if !hasKind(live.Assumptions, RemarkSidecarUsageAssumed) || !hasKind(live.Assumptions, RemarkOriginalTarget) {
		t.Errorf("assumptions %+v", live.Assumptions)
	}
	if want := "original absolute target is 700m, 70% of the app's 1 CPU request"; !strings.Contains(live.Assumptions[len(live.Assumptions)-1].Text, want) {
		t.Errorf("original target assumption %q lacks %q", live.Assumptions[len(live.Assumptions)-1].Text, want)
	}
	if h.RecommendContainerResource || h.MetricReason.Kind != RemarkMetricVersionUnknown {
		t.Errorf("no version given: want the Resource metric, got %+v", h.MetricReason)
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
	if h := live.Recalculation; h.UsageAwareTargetPercent != 77.3 || h.SidecarCPUAtAppTargetBasis.Kind != BasisGiven {
		t.Errorf("usage-aware %v basis %+v, want 77.3 from the given figure", h.UsageAwareTargetPercent, h.SidecarCPUAtAppTargetBasis)
	}
	if live.AppCPUAtTargetNowMillicores != 620 {
		t.Errorf("app at target now %vm, want 620m", live.AppCPUAtTargetNowMillicores)
	}
	if hasKind(live.Assumptions, RemarkSidecarUsageAssumed) {
		t.Errorf("a measured usage is not an assumption: %+v", live.Assumptions)
	}
}

func TestRecalculateLiveHPAGivenRequestWithoutSidecar(t *testing.T) {
	app := []PodContainer{{Name: "app", Role: RoleApp, RequestMillicores: 500, HasRequest: true}, {Name: "log", Role: RoleNativeSidecar}}
	live, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", Containers: app, TargetPercent: 80, AppContainer: "app",
		SidecarCPURequestMillicores: 250, K8sVersion: version.MustParseGeneric("v1.33.4")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(live.Containers); n != 3 || live.Containers[2].Name != "istio-proxy" || live.Containers[2].Source.Kind != RemarkRequestGiven {
		t.Fatalf("the given sidecar is listed with its source: %+v", live.Containers)
	}
	if !hasKind(live.Warnings, RemarkMissingCPURequest) || !strings.Contains(live.Warnings[0].Text, `"log"`) {
		t.Errorf("warnings %+v, want the log container's missing request", live.Warnings)
	}
	if hasKind(live.Assumptions, RemarkNoSidecarFound) {
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
	if live.Recalculation != nil || !hasKind(live.Warnings, RemarkContainerMetricInPlace) || len(live.Containers) != 2 {
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
	in := baseInput()
	in.HPA = hpaInput(1000, 70, 100)
	plans := []*HPA{mustRecommend(t, in).HPA}
	in.HPA.AppCoresPerKRPS = 0.5
	plans = append(plans, mustRecommend(t, in).HPA)
	live, err := RecalculateLiveHPA(LiveHPAInput{Workload: "deployment shop/web", TargetPercent: 70,
		Containers: []PodContainer{{Name: "app", Role: RoleApp, RequestMillicores: 1000, HasRequest: true}}})
	if err != nil {
		t.Fatal(err)
	}
	plans = append(plans, live.Recalculation)
	remarks := append(append([]Remark{}, live.Assumptions...), live.Warnings...)
	for _, h := range plans {
		remarks = append(append(remarks, h.Notes...), h.MetricReason, h.SidecarCPURequestSource,
			Remark{Text: h.SidecarCPUAtAppTargetBasis.Text})
	}
	for _, r := range remarks {
		if strings.Contains(r.Text, "--") {
			t.Errorf("remark %q (%s) names a flag", r.Text, r.Kind)
		}
	}
}

func hasKind(rs []Remark, k RemarkKind) bool {
	for _, r := range rs {
		if r.Kind == k {
			return true
		}
	}
	return false
}
