package sizing

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/version"
)

func TestRecalculateHPASeedExample(t *testing.T) {
	// The seed: app 1 CPU at 70%, a 100m sidecar. Request-weighted: 700/1100.
	h, err := RecalculateHPA(LiveHPAInput{
		AppCPURequestMillicores: 1000, SidecarCPURequestMillicores: 100, SidecarCPURequestSource: "annotation",
		SidecarCPUAtTargetMillicores: 100, SidecarCPUAtTargetBasis: "request", TargetPercent: 70, AppContainer: "app",
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.RequestWeightedTargetPercent != 63.6 {
		t.Errorf("request-weighted %v, want 63.6", h.RequestWeightedTargetPercent)
	}
	// (700 + 100) / 1100 = 72.7%
	if h.UsageAwareTargetPercent != 72.7 || h.ManifestTargetPercent != 72 {
		t.Errorf("usage-aware %v manifest %d, want 72.7 and 72", h.UsageAwareTargetPercent, h.ManifestTargetPercent)
	}
	if h.SidecarCPURequestSource != "annotation" || h.SidecarCPUAtAppTargetBasis != "request" {
		t.Errorf("sources not carried: %+v", h)
	}
	for _, n := range h.Notes {
		if strings.Contains(n, "planned") {
			t.Errorf("plan-only note left in: %q", n)
		}
	}
	if h.RecommendContainerResource {
		t.Error("no version given: must not recommend ContainerResource")
	}
}

func TestRecalculateHPAContainerResource(t *testing.T) {
	h, err := RecalculateHPA(LiveHPAInput{AppCPURequestMillicores: 500, SidecarCPURequestMillicores: 100,
		SidecarCPUAtTargetMillicores: 50, TargetPercent: 80, AppContainer: "web", K8sVersion: version.MustParseGeneric("v1.33.4")})
	if err != nil {
		t.Fatal(err)
	}
	if !h.RecommendContainerResource || h.Metric.ContainerResource == nil || h.Metric.ContainerResource.Container != "web" {
		t.Fatalf("want ContainerResource on web, got %+v", h.Metric)
	}
	if got := *h.Metric.ContainerResource.Target.AverageUtilization; got != 80 {
		t.Errorf("ContainerResource target %d, want the original 80", got)
	}
}
