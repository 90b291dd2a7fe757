//go:build integration

package cmd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/internal/meshfleet"
	"github.com/proxysizer/proxysizer/internal/promtest"
	"github.com/proxysizer/proxysizer/sizing"
)

// The capacity fixture: a mesh of three namespaces on the control plane
// (shop and pay in the README's example, fleet for the fleet-wide model
// check), Istio's ConfigMaps and Sidecars, and a day of telemetry generated
// from each workload's truth, backfilled into a real Prometheus.

// fixtureEnd is the end of the fixture's day of history (the --at of every run).
var fixtureEnd = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

const (
	fixtureIstio  = "istio-system"
	fixtureWindow = 24 * time.Hour
)

// fixtureWorkload is one workload: its objects and its traffic's truth.
type fixtureWorkload struct {
	truth       meshfleet.Workload
	statefulSet bool
	replicas    int32
	annotations map[string]string
	// proxy is an istio-proxy container in the template (manual injection).
	proxy *corev1.Container
	// appNoRequest leaves the app container without a CPU request.
	appNoRequest bool
	hpa          *autoscalingv2.HorizontalPodAutoscalerSpec
	port         int32
}

func (w fixtureWorkload) key() string { return w.truth.Namespace + "/" + w.truth.Name }

func fullAnnotations(cpu, limit, mem, memLimit, config string) map[string]string {
	a := map[string]string{sizing.AnnotationProxyCPU: cpu, sizing.AnnotationProxyCPULimit: limit,
		sizing.AnnotationProxyMemory: mem, sizing.AnnotationProxyMemoryLimit: memLimit}
	if config != "" {
		a[sizing.AnnotationProxyConfig] = config
	}
	return a
}

func resourceHPA(min, max, target int32) *autoscalingv2.HorizontalPodAutoscalerSpec {
	return &autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: i32(min), MaxReplicas: max,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(target)}}}}}
}

func svc(name, ns string) string { return name + "." + ns + ".svc.cluster.local" }

func call(name, ns string, per float64) meshfleet.Call {
	return meshfleet.Call{Service: svc(name, ns), Namespace: ns, Workload: name, PerInbound: per}
}

// fixtureWorkloads is the fixture's truth. The README's example shows shop
// and pay; fleet holds eight services of one true cost, for the fleet's fit.
func fixtureWorkloads() []fixtureWorkload {
	truth := func(ns, name string, peak float64) meshfleet.Workload {
		return meshfleet.Workload{Namespace: ns, Name: name, PeakInboundPerPod: peak, Trough: 0.25, PeakHour: 14, Caller: "ingress-gateway",
			ProxyIdle: 0.01, ProxyCoresPerKRPS: 0.3, ProxyNoise: 0.04, AppIdle: 0.05, AppCoresPerKRPS: 0.8,
			ProxyMemory: 70 << 20, AppMemory: 180 << 20}
	}
	web := truth("shop", "web", 300)
	web.Calls = []meshfleet.Call{call("cart", "shop", 2), call("authz", "auth", 1)}
	web.RetryRatio, web.ThrottledAtPeak, web.CPULimited = 0.05, 0.3, true
	cart := truth("shop", "cart", 900)
	cart.Calls, cart.RetryRatio, cart.CPULimited, cart.ProxyCoresPerKRPS, cart.ProxyIdle = []meshfleet.Call{call("db", "shop", 1)}, 0.01, true, 0.25, 0.005
	catalog := truth("shop", "catalog", 40)
	catalog.ProxyCoresPerKRPS, catalog.ProxyIdle, catalog.ProxyMemory, catalog.CPULimited = 0.2, 0.008, 55<<20, true
	db := truth("shop", "db", 150)
	db.Pods, db.ProxyCoresPerKRPS = []string{"db-0", "db-1", "db-2"}, 0.2
	legacy := truth("shop", "legacy", 80)
	legacy.NoSidecar = true
	batch := truth("shop", "batch", 0)
	batch.ProxyIdle, batch.ProxyMemory, batch.CPULimited = 0.004, 45<<20, true
	ledger := truth("pay", "ledger", 200)
	ledger.Calls, ledger.NoCAdvisor, ledger.NoRetryMetric = []meshfleet.Call{call("db", "shop", 0.5)}, true, true
	gateway := truth("pay", "gateway", 500)
	gateway.Calls, gateway.RetryRatio, gateway.ProxyCoresPerKRPS, gateway.CPULimited = []meshfleet.Call{call("ledger", "pay", 1), call("authz", "auth", 1)}, 0.02, 0.28, true
	worker := truth("pay", "worker", 60)
	worker.Consumer, worker.Calls, worker.CPULimited = true, []meshfleet.Call{call("ledger", "pay", 2)}, true

	tmplProxy := &corev1.Container{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.24.2", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")}}}
	ledgerHPA := &autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: i32(2), MaxReplicas: 6,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
			Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(75)}}}}}
	out := []fixtureWorkload{
		{truth: web, replicas: 3, annotations: fullAnnotations("100m", "1", "128Mi", "256Mi", "concurrency: 2\nterminationDrainDuration: 20s\n"), hpa: resourceHPA(2, 10, 70), port: 8080},
		{truth: cart, replicas: 2, annotations: fullAnnotations("200m", "1", "128Mi", "256Mi", "concurrency: 1\n"), port: 8080},
		{truth: catalog, replicas: 2, proxy: tmplProxy, port: 8080},
		{truth: db, statefulSet: true, replicas: 3, annotations: map[string]string{sizing.AnnotationProxyCPU: "300m"}, port: 5432},
		{truth: legacy, replicas: 1},
		{truth: batch, replicas: 1, annotations: fullAnnotations("50m", "500m", "64Mi", "128Mi", "concurrency: 1\n"), appNoRequest: true, hpa: resourceHPA(1, 3, 80)},
		{truth: ledger, replicas: 2, annotations: fullAnnotations("150m", "1", "96Mi", "192Mi", "concurrency: 1\n"), hpa: ledgerHPA, port: 8080},
		{truth: gateway, replicas: 2, hpa: resourceHPA(2, 8, 60), port: 8443},
		{truth: worker, replicas: 1, annotations: fullAnnotations("100m", "1", "128Mi", "256Mi", "concurrency: 1\n")},
	}
	for i := 1; i <= 8; i++ {
		name := fmt.Sprintf("svc-%02d", i)
		w := truth("fleet", name, float64(100*i+30))
		w.ProxyNoise, w.CPULimited = 0.03, true
		if i > 1 {
			w.Calls = []meshfleet.Call{call(fmt.Sprintf("svc-%02d", i-1), "fleet", float64(i%3))}
		}
		out = append(out, fixtureWorkload{truth: w, replicas: 2, annotations: fullAnnotations("100m", "2", "128Mi", "256Mi", "concurrency: 2\n"), hpa: resourceHPA(2, 6, 70), port: 8080})
	}
	return out
}

// capacityFixture is the fixture on the harness and a Prometheus on its
// backfilled history.
type capacityFixture struct {
	workloads []fixtureWorkload
	promURL   string
	// services and endpoints created per namespace, for the expected
	// configuration sizes (every service has one port, but istiod's four).
	services map[string][2]int
	// created lists the services (namespace, name), removed at the end.
	created [][2]string
}

func (f *capacityFixture) byKey(key string) fixtureWorkload {
	for _, w := range f.workloads {
		if w.key() == key {
			return w
		}
	}
	panic("no fixture workload " + key)
}

func setupCapacityFixture(t *testing.T) *capacityFixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	harness.InstallSidecarCRD(t)
	f := &capacityFixture{workloads: fixtureWorkloads(), services: map[string][2]int{}}
	for _, ns := range []string{"shop", "pay", "auth", "fleet", fixtureIstio, "bulk"} {
		_, err := harness.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	// The harness is shared by this binary's tests: what the fixture adds to
	// istio-system and the services it creates (which every unscoped
	// proxy and every namespace default Sidecar would count) go at the end.
	t.Cleanup(func() {
		ctx := context.Background()
		for _, name := range []string{"istio", "istio-sidecar-injector"} {
			_ = harness.Client.CoreV1().ConfigMaps(fixtureIstio).Delete(ctx, name, metav1.DeleteOptions{})
		}
		for _, s := range f.created {
			_ = harness.Client.CoreV1().Services(s[0]).Delete(ctx, s[1], metav1.DeleteOptions{})
			_ = harness.Client.DiscoveryV1().EndpointSlices(s[0]).Delete(ctx, s[1]+"-1", metav1.DeleteOptions{})
		}
	})
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Namespace: fixtureIstio, Name: "istio"}, Data: map[string]string{"mesh": "defaultConfig:\n  concurrency: 2\n  discoveryAddress: istiod.istio-system.svc:15012\nrootNamespace: istio-system\n"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: fixtureIstio, Name: "istio-sidecar-injector"}, Data: map[string]string{
			"values": `{"global":{"proxy":{"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"2","memory":"1Gi"}}}}}`}},
	} {
		if _, err := harness.Client.CoreV1().ConfigMaps(fixtureIstio).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Scoped namespaces: shop keeps itself and Istio's; pay also shop's and
	// auth's. fleet has no Sidecar: its proxies hold every service.
	harness.CreateSidecar(t, "shop", "default", nil, "./*", fixtureIstio+"/*")
	harness.CreateSidecar(t, "pay", "default", nil, "./*", fixtureIstio+"/*", "shop/*", "auth/*")
	f.service(t, fixtureIstio, "istiod", map[string]string{"app": "istiod"}, 1, 15010, 15012, 443, 15014)
	f.service(t, "auth", "authz", map[string]string{"app": "authz"}, 2, 9000)
	for i := 0; i < 30; i++ {
		f.service(t, "bulk", fmt.Sprintf("bulk-%02d", i), map[string]string{"app": "bulk"}, 3, 80, 443)
	}
	for i := range f.workloads {
		f.create(t, &f.workloads[i])
	}
	var truths []meshfleet.Workload
	for _, w := range f.workloads {
		truths = append(truths, w.truth)
	}
	h := meshfleet.History{Workloads: truths, Start: fixtureEnd.Add(-fixtureWindow), End: fixtureEnd, Scrape: time.Minute, Seed: 14}
	files, err := h.WriteChunks(t.TempDir(), 12*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.promURL = promtest.StartOnBlocks(t, files...).URL
	return f
}

// service creates a Service of the given ports and its EndpointSlice with
// n ready endpoints (the harness runs no EndpointSlice controller).
func (f *capacityFixture) service(t *testing.T, ns, name string, selector map[string]string, n int, ports ...int32) {
	t.Helper()
	ctx := context.Background()
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Selector: selector}}
	var eps []discoveryv1.EndpointPort
	for _, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("p%d", p), Port: p})
		eps = append(eps, discoveryv1.EndpointPort{Name: new(string), Port: new(int32)})
		*eps[len(eps)-1].Name, *eps[len(eps)-1].Port = fmt.Sprintf("p%d", p), p
	}
	if _, err := harness.Client.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.created = append(f.created, [2]string{ns, name})
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: eps}
	ready := true
	for i := 0; i < n; i++ {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.%d.%d.%d", len(ns), len(name), i+1)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	if _, err := harness.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := f.services[ns]
	f.services[ns] = [2]int{c[0] + len(ports), c[1] + n*len(ports)}
}

// create makes the workload's objects and reads its pods' names into its
// truth: the telemetry names the pods the cluster runs.
func (f *capacityFixture) create(t *testing.T, w *fixtureWorkload) {
	t.Helper()
	ctx := context.Background()
	ns, name := w.truth.Namespace, w.truth.Name
	d := kubeharness.NewDeployment(ns, name, w.replicas, w.annotations)
	spec := &d.Spec.Template.Spec
	if w.appNoRequest {
		spec.Containers[0].Resources = corev1.ResourceRequirements{}
	}
	if w.proxy != nil {
		spec.Containers = append(spec.Containers, *w.proxy)
	}
	if w.port > 0 {
		f.service(t, ns, name, map[string]string{"app": name}, int(w.replicas), w.port)
	}
	kind := "Deployment"
	if w.statefulSet {
		kind = "StatefulSet"
		st := &appsv1.StatefulSet{ObjectMeta: d.ObjectMeta, Spec: appsv1.StatefulSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector,
			Template: d.Spec.Template, ServiceName: name}}
		if _, err := harness.Client.AppsV1().StatefulSets(ns).Create(ctx, st, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// No StatefulSet controller runs in the harness: its pods, as it would name them.
		for _, pod := range w.truth.Pods {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: pod, Labels: d.Spec.Template.Labels, Annotations: w.annotations},
				Spec: d.Spec.Template.Spec}
			if _, err := harness.Client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		harness.CreateDeployment(t, d)
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			w.truth.Pods = w.truth.Pods[:0]
			for _, p := range harness.Pods(t, ns, "app="+name) {
				if p.DeletionTimestamp == nil {
					w.truth.Pods = append(w.truth.Pods, p.Name)
				}
			}
			return len(w.truth.Pods) == int(w.replicas), nil
		})
		if err != nil {
			t.Fatalf("%s/%s: %d pods, want %d", ns, name, len(w.truth.Pods), w.replicas)
		}
	}
	if w.hpa != nil {
		spec := *w.hpa
		spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: kind, Name: name}
		hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
		if _, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// capacityArgs are a run's flags over the fixture.
func (f *capacityFixture) capacityArgs(kubeconfig string, extra ...string) []string {
	args := []string{"capacity", "--kubeconfig", kubeconfig, "--prometheus-url", f.promURL, "--window", "1d", "--at", fixtureEnd.Format(time.RFC3339),
		"--authz-upstreams", "authz.auth"}
	return append(args, extra...)
}

func joinArgs(args []string) string { return strings.Join(args, " ") }
