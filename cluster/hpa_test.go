package cluster

import (
	"context"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/sizing"
)

func hpaOn(metric autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", ResourceVersion: "7", UID: "u",
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}, MaxReplicas: 5,
			Metrics: []autoscalingv2.MetricSpec{metric}},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3},
	}
}

func cpuUtilisation(target int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}
}

func readView(t *testing.T, hpa *autoscalingv2.HorizontalPodAutoscaler, gitVersion string) *HPAView {
	t.Helper()
	d := kubeharness.NewDeployment("shop", "web", 2, map[string]string{sizing.AnnotationProxyCPU: "100m"})
	client := fake.NewClientset(d, hpa)
	client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: gitVersion}
	v, err := ReadHPA(context.Background(), client, "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRecalculateLiveHPAOnResourceMetric(t *testing.T) {
	v := readView(t, hpaOn(cpuUtilisation(70)), "v1.26.3")
	r, err := RecalculateHPA(v, HPAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Metric != "Resource cpu at 70%" || r.TargetPercent != 70 {
		t.Errorf("current metric %q at %d%%, want Resource cpu at 70%%", r.Metric, r.TargetPercent)
	}
	if r.Sidecar != "annotations (pod-template annotations)" {
		t.Errorf("sidecar %q, want the template's annotations", r.Sidecar)
	}
	// 500m app + 100m sidecar; 70% of 600m = 420m less the sidecar's 100m.
	if r.PodRequests != 600 || r.AppScalesNowAt != 320 {
		t.Errorf("pod requests %dm, app now %vm; want 600m and 320m", r.PodRequests, r.AppScalesNowAt)
	}
	if r.Recalculation == nil || r.Recalculation.RecommendContainerResource {
		t.Fatalf("recalculation %+v, want the Resource metric on a 1.26 server", r.Recalculation)
	}
	c := r.Corrected
	if c == nil {
		t.Fatal("no corrected HPA")
	}
	if got := *c.Spec.Metrics[0].Resource.Target.AverageUtilization; got != r.Recalculation.ManifestTargetPercent {
		t.Errorf("corrected target %d%%, want the manifest target %d%%", got, r.Recalculation.ManifestTargetPercent)
	}
	if c.ResourceVersion != "" || c.UID != "" || c.Annotations != nil || c.Status.CurrentReplicas != 0 {
		t.Errorf("corrected HPA keeps what the server owns: %+v %+v", c.ObjectMeta, c.Status)
	}
	if c.Kind != "HorizontalPodAutoscaler" || c.APIVersion != "autoscaling/v2" {
		t.Errorf("corrected HPA type %s %s", c.APIVersion, c.Kind)
	}
}

func TestRecalculateLiveHPAOnContainerMetricAndNone(t *testing.T) {
	target := int32(60)
	onApp := autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
		Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}
	r, err := RecalculateHPA(readView(t, hpaOn(onApp), "v1.33.4"), HPAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Recalculation != nil || r.Corrected != nil {
		t.Errorf("an HPA on the app container alone was recalculated: %+v", r.Recalculation)
	}
	if r.Metric != `ContainerResource cpu on container "app"` || len(r.Warnings) != 1 {
		t.Errorf("metric %q, warnings %v", r.Metric, r.Warnings)
	}
	memory := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory}}
	if _, err := RecalculateHPA(readView(t, hpaOn(memory), "v1.33.4"), HPAOptions{}); err == nil || !strings.Contains(err.Error(), "no CPU utilisation metric") {
		t.Errorf("a memory-only HPA: %v", err)
	}
}

func TestReadHPARefusesOtherKinds(t *testing.T) {
	h := hpaOn(cpuUtilisation(70))
	h.Spec.ScaleTargetRef.Kind = "StatefulSet"
	if _, err := ReadHPA(context.Background(), fake.NewClientset(h), "shop", "web"); err == nil || !strings.Contains(err.Error(), "only Deployments") {
		t.Errorf("an HPA on a StatefulSet: %v", err)
	}
}
