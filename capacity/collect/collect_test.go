package collect

import (
	"slices"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/sizing"
)

func workload(annotations map[string]string, containers ...corev1.Container) cluster.Workload {
	labels := map[string]string{"app": "web"}
	if len(containers) == 0 {
		containers = []corev1.Container{{Name: "app"}}
	}
	return cluster.Workload{Kind: cluster.KindDeployment, Namespace: "shop", Name: "web", Replicas: 2,
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations}, Spec: corev1.PodSpec{Containers: containers}}}
}

func proxyContainer(cpu, limit string) corev1.Container {
	c := corev1.Container{Name: "istio-proxy", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}}
	if cpu != "" {
		c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if limit != "" {
		c.Resources.Limits[corev1.ResourceCPU] = resource.MustParse(limit)
	}
	return c
}

func pod(name string, containers ...corev1.Container) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{Containers: containers}}
}

// The sidecar is found in FindSidecar's order, in memory: annotations, the
// template's container, a running pod's, then the telemetry with the mesh's
// defaults; its concurrency as Istio resolves it.
func TestSidecarAndConcurrency(t *testing.T) {
	two := int32(2)
	m := mesh{defaults: cluster.ProxyConfig{Concurrency: &two}, resources: cluster.IstioDefaultResources("test")}
	k := &kube{}
	for _, tt := range []struct {
		name        string
		w           cluster.Workload
		pods        []corev1.Pod
		tel         prom.WorkloadTelemetry
		found       bool
		kind        string
		cpu         int64
		concurrency int
		source      string
		annotations []string
	}{
		{"annotations, concurrency in proxy.istio.io/config",
			workload(map[string]string{sizing.AnnotationProxyCPU: "250m", sizing.AnnotationProxyConfig: "concurrency: 3\n"}), nil, prom.WorkloadTelemetry{},
			true, "annotations", 250, 3, "annotation proxy.istio.io/config", []string{sizing.AnnotationProxyCPU}},
		{"the template's container, the mesh's concurrency",
			workload(nil, corev1.Container{Name: "app"}, proxyContainer("300m", "")), nil, prom.WorkloadTelemetry{},
			true, "container", 300, 2, "the mesh's defaultConfig", nil},
		{"a running pod's injected container",
			workload(nil), []corev1.Pod{pod("web-5d8f7b9c6-qwrtz", corev1.Container{Name: "app"}, proxyContainer("120m", "2"))}, prom.WorkloadTelemetry{},
			true, "container", 120, 2, "the mesh's defaultConfig", nil},
		{"the telemetry only: the injector's resources",
			workload(nil), nil, prom.WorkloadTelemetry{ProxyMemoryMax: prom.Figure{Value: 1, Found: true}},
			true, "telemetry", 100, 2, "the mesh's defaultConfig", nil},
		{"none", workload(nil), nil, prom.WorkloadTelemetry{ProxyCPUPeak: prom.Figure{}}, false, "", 0, 0, "", nil},
	} {
		cw := capacity.Workload{}
		_, found := k.sidecar(tt.w, tt.pods, m, &tt.tel, &cw)
		st := cw.Sidecar
		if found != tt.found || st.Kind != tt.kind || !slices.Equal(st.ResourceAnnotations, tt.annotations) {
			t.Errorf("%s: found %v kind %q annotations %v", tt.name, found, st.Kind, st.ResourceAnnotations)
			continue
		}
		if !found {
			continue
		}
		if r := st.Resources.EffectiveCPURequest(); r == nil || r.MilliValue() != tt.cpu {
			t.Errorf("%s: CPU request %v, want %dm", tt.name, r, tt.cpu)
		}
		if st.Concurrency != tt.concurrency || !st.ConcurrencyKnown || st.ConcurrencySource != tt.source {
			t.Errorf("%s: concurrency %d (%v) from %q, want %d from %q", tt.name, st.Concurrency, st.ConcurrencyKnown, st.ConcurrencySource, tt.concurrency, tt.source)
		}
	}
	// Without a mesh default: ceil(CPU limit), else the node's cores.
	st := &capacity.SidecarState{Resources: cluster.SidecarResources{CPULimit: func() *resource.Quantity { q := resource.MustParse("1500m"); return &q }()}}
	k.concurrency(workload(nil), mesh{}, st)
	if st.Concurrency != 2 || st.ConcurrencySource != "unset: ceil(CPU limit) (Istio 1.18+)" {
		t.Errorf("from the limit: %+v", st)
	}
	st = &capacity.SidecarState{}
	k.concurrency(workload(nil), mesh{}, st)
	if st.ConcurrencyKnown || st.ConcurrencySource != "unset and no CPU limit: one worker per node core" {
		t.Errorf("no limit: %+v", st)
	}
}

func TestInjectorResourcesAndHPAState(t *testing.T) {
	r, ok, err := injectorResources(`{"global":{"proxy":{"resources":{"requests":{"cpu":"50m","memory":"64Mi"},"limits":{"cpu":"1"}}}}}`, "values")
	if err != nil || !ok || r.CPURequest.MilliValue() != 50 || r.CPULimit.MilliValue() != 1000 || r.MemoryRequest.Value() != 64<<20 || r.MemoryLimit != nil {
		t.Errorf("%+v %v %v", r, ok, err)
	}
	if _, ok, _ := injectorResources(`{"global":{}}`, "values"); ok {
		t.Error("no global.proxy.resources: not found")
	}
	if _, _, err := injectorResources(`{`, "values"); err == nil {
		t.Error("bad JSON accepted")
	}
	u := int32(60)
	h := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 5, Metrics: []autoscalingv2.MetricSpec{
		{Type: autoscalingv2.PodsMetricSourceType},
		{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: corev1.ResourceCPU, Container: "app",
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}}}}}}
	s := hpaState(h)
	if s.Metric != capacity.HPAContainerResource || s.TargetContainer != "app" || s.TargetPercent != 60 || s.CPUMetric != -1 || s.Min != 1 {
		t.Errorf("%+v", s)
	}
	h.Spec.Metrics = append(h.Spec.Metrics, autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}}})
	if s := hpaState(h); s.Metric != capacity.HPAResource || s.CPUMetric != 2 {
		t.Errorf("a Resource CPU metric wins: %+v", s)
	}
}

func TestScopedHosts(t *testing.T) {
	got := ScopedHosts([]string{"cart.shop.svc.cluster.local", "api.stripe.com"}, "istio-system", "cluster.local")
	if want := []string{"istio-system/*", "shop/cart.shop.svc.cluster.local", "*/api.stripe.com"}; !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}
