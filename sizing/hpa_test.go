package sizing

import (
	"math"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/version"
)

func hpaInput(appMilli int64, target int, sidecarMilli int64) *HPAInput {
	return &HPAInput{AppCPURequestMillicores: appMilli, TargetPercent: target, SidecarCPURequestMillicores: sidecarMilli,
		Deployment: "app", AppContainer: "app", MinReplicas: 2, MaxReplicas: 20}
}

// The seed: app request 1 CPU at 70% scales at 700m; with a 100m sidecar the
// target that keeps 700m is 700m / 1100m = 63.6%.
func TestSeedRequestWeightedTarget(t *testing.T) {
	in := baseInput()
	in.HPA = hpaInput(1000, 70, 100)
	h := mustRecommend(t, in).HPA
	if h.RequestWeightedTargetPercent != 63.6 {
		t.Errorf("request-weighted target = %v, want 63.6", h.RequestWeightedTargetPercent)
	}
	if h.OriginalAbsoluteTargetMillicores != 700 {
		t.Errorf("absolute target = %v, want 700", h.OriginalAbsoluteTargetMillicores)
	}
}

func TestUsageAwareTarget(t *testing.T) {
	tests := []struct {
		name             string
		appCoresPerKRPS  float64
		wantSidecarAtTgt float64
		wantUsageAware   float64
		wantManifest     int32
	}{
		// Sidecar held at its CPU at the planned load: 0.01 + 0.25 x 1 = 260m.
		// (700 + 260) / 1100 = 87.27%.
		{"planned load", 0, 260, 87.3, 87},
		// App 0.7 cores per 1000 RPS reaches 700m at 1000 inbound RPS = 2000
		// through the sidecar: 10 + 250 x 2 = 510m. (700 + 510) / 1100 = 110%.
		{"app cost given", 0.7, 510, 110, 110},
		// 2 cores per 1000 RPS: 350 inbound, 700 sidecar RPS: 10 + 175 = 185m.
		// (700 + 185) / 1100 = 80.45%.
		{"cheap sidecar", 2, 185, 80.5, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			in.HPA = hpaInput(1000, 70, 100)
			in.HPA.AppCoresPerKRPS = tt.appCoresPerKRPS
			h := mustRecommend(t, in).HPA
			if math.Abs(h.SidecarCPUAtAppTargetMillicores-tt.wantSidecarAtTgt) > 0.05 {
				t.Errorf("sidecar at app target = %v, want %v", h.SidecarCPUAtAppTargetMillicores, tt.wantSidecarAtTgt)
			}
			if h.UsageAwareTargetPercent != tt.wantUsageAware || h.ManifestTargetPercent != tt.wantManifest {
				t.Errorf("usage-aware %v manifest %d, want %v and %d", h.UsageAwareTargetPercent, h.ManifestTargetPercent, tt.wantUsageAware, tt.wantManifest)
			}
			// At the manifest target the app's own CPU sits at its original
			// target within one point of the pod's requests (11m).
			if d := h.AppCPUAtTarget.ManifestTarget - 700; d > 0 || d < -11 {
				t.Errorf("app CPU at the manifest target = %vm, want within 11m below 700m", h.AppCPUAtTarget.ManifestTarget)
			}
			if h.AppCPUAtTarget.UnchangedTarget >= 700 {
				t.Errorf("with the target unchanged the app scales at %vm, want earlier than 700m", h.AppCPUAtTarget.UnchangedTarget)
			}
		})
	}
}

// desiredReplicas is the HPA controller's Resource-metric rule (replica
// calculator): utilisation truncated to an integer, no change within the 10%
// tolerance, else ceil(ratio x ready pods).
func desiredReplicas(usageMilli, requestMilli float64, target int32, pods int) int {
	current := int32(usageMilli * 100 / requestMilli)
	ratio := float64(current) / float64(target)
	if math.Abs(ratio-1) <= 0.1 {
		return pods
	}
	return int(math.Ceil(ratio * float64(pods)))
}

// The manifest target must make the pod HPA act as the app-only HPA did: hold
// at the app's original absolute target and scale up where it scaled up.
func TestManifestTargetReproducesAppOnlyScaling(t *testing.T) {
	in := baseInput()
	in.HPA = hpaInput(1000, 70, 100)
	in.HPA.AppCoresPerKRPS = 2 // sidecar = 10m + 0.25 x 2 x app/2 = 10m + 0.25 x app
	h := mustRecommend(t, in).HPA
	sidecarAt := func(app float64) float64 { return 10 + 0.25*app }
	const pods = 10
	for app := 500.0; app <= 1000; app += 5 {
		original := desiredReplicas(app, 1000, 70, pods)
		withSidecar := desiredReplicas(app+sidecarAt(app), 1100, h.ManifestTargetPercent, pods)
		// Integer truncation on two different denominators can shift the
		// step by at most one point of the requests: compare 11m either side.
		lo := desiredReplicas(app-11, 1000, 70, pods)
		hi := desiredReplicas(app+11, 1000, 70, pods)
		if withSidecar < min(lo, original) || withSidecar > max(hi, original) {
			t.Fatalf("app at %vm: app-only HPA wants %d pods, with the sidecar and target %d%% it wants %d", app, original, h.ManifestTargetPercent, withSidecar)
		}
	}
	// And with the target left at 70% the pod scales far too early.
	if got := desiredReplicas(700+sidecarAt(700), 1100, 70, pods); got <= pods {
		t.Errorf("unchanged 70%% target at the app's 700m gives %d pods, expected a premature scale-up", got)
	}
}

func TestMetricChoiceByVersion(t *testing.T) {
	tests := []struct {
		version  string
		wantType autoscalingv2.MetricSourceType
		wantPct  int32
	}{
		{"", autoscalingv2.ResourceMetricSourceType, 87},
		{"1.26", autoscalingv2.ResourceMetricSourceType, 87},
		{"1.27", autoscalingv2.ContainerResourceMetricSourceType, 70},
		{"1.33.2", autoscalingv2.ContainerResourceMetricSourceType, 70},
	}
	for _, tt := range tests {
		in := baseInput()
		in.HPA = hpaInput(1000, 70, 100)
		if tt.version != "" {
			in.HPA.K8sVersion = version.MustParseGeneric(tt.version)
		}
		h := mustRecommend(t, in).HPA
		var pct int32
		switch h.Metric.Type {
		case autoscalingv2.ResourceMetricSourceType:
			pct = *h.Metric.Resource.Target.AverageUtilization
		case autoscalingv2.ContainerResourceMetricSourceType:
			pct = *h.Metric.ContainerResource.Target.AverageUtilization
			if h.Metric.ContainerResource.Container != "app" {
				t.Errorf("container = %q", h.Metric.ContainerResource.Container)
			}
		}
		if h.Metric.Type != tt.wantType || pct != tt.wantPct || h.RecommendContainerResource != (tt.wantType == autoscalingv2.ContainerResourceMetricSourceType) {
			t.Errorf("version %q: metric %s at %d%%, want %s at %d%%", tt.version, h.Metric.Type, pct, tt.wantType, tt.wantPct)
		}
	}
}

func TestSidecarAboveItsRequestWarns(t *testing.T) {
	in := baseInput()
	in.HPA = hpaInput(1000, 70, 100) // sidecar uses 260m at the planned load
	h := mustRecommend(t, in).HPA
	if !containsAny(h.Notes, "more CPU than its request") || !strings.Contains(h.SidecarAboveRequest(), "260m against 100m") {
		t.Errorf("no warning with a 100m request and 260m usage: %q", h.Notes)
	}
}
