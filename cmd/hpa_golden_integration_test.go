//go:build integration

package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/internal/replaytest"
	"github.com/proxysizer/proxysizer/sizing"
)

// hpaGoldenWorkloads creates, in ns, one Deployment and HPA for each case
// the hpa command words differently: a sidecar from the template's
// annotations (web), a native sidecar (api), no sidecar (solo), an HPA on
// the app container already (cr), and a container without a CPU request
// (bare).
func hpaGoldenWorkloads(t *testing.T, ns string) {
	t.Helper()
	releaseAtEnd(t, ns)
	web := kubeharness.NewDeployment(ns, "web", 1, map[string]string{sizing.AnnotationProxyCPU: "100m", sizing.AnnotationProxyCPULimit: "2"})
	web.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1")
	harness.CreateDeployment(t, web)
	createHPA(t, ns, "web", 70)

	createNativeSidecarHPA(t, ns, "api")

	harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "solo", 1, nil))
	createHPA(t, ns, "solo", 60)

	harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "cr", 1, map[string]string{sizing.AnnotationProxyCPU: "100m"}))
	cr := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cr"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "cr"},
			MaxReplicas:    5,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
				Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(75)}}}},
		},
	}
	if _, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(context.Background(), cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	bare := kubeharness.NewDeployment(ns, "bare", 1, map[string]string{sizing.AnnotationProxyCPU: "200m"})
	bare.Spec.Template.Spec.Containers = append(bare.Spec.Template.Spec.Containers, corev1.Container{Name: "log", Image: "registry.invalid/log:1"})
	harness.CreateDeployment(t, bare)
	createHPA(t, ns, "bare", 50)
}

// releaseAtEnd deletes the Deployments of ns when the test ends, so that
// their pods give back the node's CPU and pod slots to the tests after it
// (the harness runs one node for the whole binary).
func releaseAtEnd(t *testing.T, ns string) {
	t.Cleanup(func() {
		background := metav1.DeletePropagationBackground
		if err := harness.Client.AppsV1().Deployments(ns).DeleteCollection(context.Background(),
			metav1.DeleteOptions{PropagationPolicy: &background}, metav1.ListOptions{}); err != nil {
			t.Errorf("deleting the deployments of %s: %v", ns, err)
		}
	})
}

// The hpa command's outputs on a live HPA, for every case it words
// differently, with and without the figures the user gives: they must not
// change unless a change means to change them.
func TestHPAGolden(t *testing.T) {
	ns := harness.Namespace(t, "hpa-golden")
	hpaGoldenWorkloads(t, ns)
	cases := []struct {
		name string
		args []string
	}{
		{"web-table", []string{"web"}},
		{"web-json", []string{"web", "-o", "json"}},
		{"web-yaml", []string{"web", "-o", "yaml"}},
		{"web-manifests", []string{"web", "-o", "manifests"}},
		{"web-usage-table", []string{"web", "--sidecar-cpu-usage", "150m"}},
		{"web-usage-json", []string{"web", "--sidecar-cpu-usage", "150m", "-o", "json"}},
		{"web-usage-manifests", []string{"web", "--sidecar-cpu-usage", "150m", "-o", "manifests"}},
		{"web-request-json", []string{"web", "--sidecar-cpu-request", "200m", "--app-container", "app", "-o", "json"}},
		{"api-table", []string{"api"}},
		{"api-json", []string{"api", "-o", "json"}},
		{"solo-table", []string{"solo"}},
		{"solo-json", []string{"solo", "-o", "json"}},
		{"solo-request-table", []string{"solo", "--sidecar-cpu-request", "100m"}},
		{"solo-request-usage-json", []string{"solo", "--sidecar-cpu-request", "100m", "--sidecar-cpu-usage", "80m", "-o", "json"}},
		{"cr-table", []string{"cr"}},
		{"cr-json", []string{"cr", "-o", "json"}},
		{"cr-manifests", []string{"cr", "-o", "manifests"}},
		{"bare-table", []string{"bare"}},
		{"bare-json", []string{"bare", "-o", "json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := runOK(t, append([]string{"hpa", "--kubeconfig", harness.Kubeconfig, "-n", ns}, tc.args...)...)
			compareGolden(t, "hpa-"+tc.name+".out", strings.ReplaceAll(out, ns, "{ns}"))
		})
	}
}

// hpa --replay's outputs on the stairs history (TestHPAReplayStairsEndToEnd
// checks their figures), with the sidecar's CPU from the history and given.
func TestHPAReplayGolden(t *testing.T) {
	ns := harness.Namespace(t, "replay-golden")
	releaseAtEnd(t, ns)
	replayWorkload(t, ns, 50, 2, 10)
	s := replaytest.Stairs(true)
	s.Namespace = ns
	p := backfill(t, s)
	end := replaytest.StairsStart.Add(30 * time.Minute).Format(time.RFC3339)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"table", nil},
		{"json", []string{"-o", "json"}},
		{"csv", []string{"-o", "csv"}},
		{"usage-table", []string{"--sidecar-cpu-usage", "40m"}},
		{"usage-json", []string{"--sidecar-cpu-usage", "40m", "-o", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"hpa", "web", "--kubeconfig", harness.Kubeconfig, "-n", ns, "--replay", "--prometheus-url", p.URL,
				"--replay-end", end, "--replay-window", "30m", "--replay-rate-window", "20s"}, tc.args...)
			out := strings.ReplaceAll(strings.ReplaceAll(runOK(t, args...), ns, "{ns}"), p.URL, "{prometheus}")
			compareGolden(t, "hpa-replay-"+tc.name+".out", out)
		})
	}
}
