// Command capacity benchmarks `proxysizer capacity` at fleet scale: it
// generates the telemetry of -workloads workloads of -pods pods each
// (Istio's, Envoy's and cAdvisor's series, as the tests' generator writes
// them), backfills it with promtool into a real Prometheus, and plans the
// fleet with the command's own collector and analysis, printing the run
// time, the PromQL query count and the series count. Its peer, measured in
// the same run on the same Prometheus, is the per-workload way (the same
// figures queried for one workload at a time, as a tool that sends one
// query per workload would): timed on a sample of -peer-sample workloads and
// scaled to the fleet.
//
// The workloads' Kubernetes objects (Deployments, pods, HPAs, services,
// endpoint slices) are served from memory by client-go's fake clientset: the
// benchmark measures the queries, which are the part that grows with the
// fleet's history; the cluster side is paged listings, measured on the
// control plane by the end-to-end test.
//
//	go run ./bench/capacity                      # 2000 workloads x 10 pods, 6 h at 60 s
//	go run ./bench/capacity -hours 24 -keep DIR  # a longer history, kept for another run
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/capacity/collect"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/meshfleet"
	"github.com/proxysizer/proxysizer/internal/promtest"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func main() {
	workloads := flag.Int("workloads", 2000, "workloads in the fleet")
	pods := flag.Int("pods", 10, "pods per workload")
	namespaces := flag.Int("namespaces", 40, "namespaces the workloads spread over")
	hours := flag.Float64("hours", 6, "hours of history")
	scrape := flag.Duration("scrape", time.Minute, "scrape interval of the history")
	sample := flag.Int("peer-sample", 20, "workloads the per-workload peer is timed on")
	keep := flag.String("keep", "", "keep the TSDB in this directory (and reuse it if it holds one)")
	flag.Parse()
	if err := run(*workloads, *pods, *namespaces, *hours, *scrape, *sample, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench capacity:", err)
		os.Exit(1)
	}
}

var end = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func run(nWorkloads, nPods, nNamespaces int, hours float64, scrape time.Duration, sample int, keep string) error {
	fleet := generate(nWorkloads, nPods, nNamespaces)
	window := time.Duration(hours * float64(time.Hour))
	h := meshfleet.History{Workloads: fleet, Start: end.Add(-window), End: end, Scrape: scrape, Seed: 7}
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bench-capacity-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	tsdb := filepath.Join(dir, "tsdb")
	if _, err := os.Stat(filepath.Join(tsdb, "done")); err != nil {
		if err := backfill(h, dir, tsdb); err != nil {
			return err
		}
	} else {
		fmt.Printf("bench capacity: reusing the TSDB in %s\n", tsdb)
	}
	srv, err := promtest.Serve(tsdb, 5*time.Minute)
	if err != nil {
		return err
	}
	defer srv.Stop()
	client, err := prom.New(prom.Config{URL: srv.URL, QueryTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	ctx := context.Background()
	series, err := client.Vector(ctx, `count({__name__=~"istio_requests_total|envoy_cluster_upstream_rq_retry|container_.*"})`, end)
	if err != nil {
		return err
	}
	src, err := kubeSources(fleet)
	if err != nil {
		return err
	}
	src.Prometheus = client
	p, err := profiles.Load(profiles.DefaultName)
	if err != nil {
		return err
	}
	q := prom.FleetQuery{Window: window, RateWindow: 5 * time.Minute, Quantile: 0.99, At: end}
	// A warm-up query, so that both the fleet run and its peer find the
	// blocks' index pages in the page cache.
	if _, err := client.Vector(ctx, `count(container_memory_working_set_bytes)`, end); err != nil {
		return err
	}
	before := client.QueriesSent()
	start := time.Now()
	res, err := collect.Plan(ctx, src, collect.Scope{Telemetry: q}, capacity.Options{Profile: p, Headroom: sizing.DefaultHeadroom, MemoryLimitRatio: 2})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	queries := client.QueriesSent() - before
	sized := res.Report.Total.Sized
	peer, err := perWorkload(ctx, client, fleet, q, sample)
	if err != nil {
		return err
	}
	peerFleet := peer / time.Duration(sample) * time.Duration(len(fleet))
	nSeries := 0.0
	if len(series) > 0 {
		nSeries = series[0].Value
	}
	fmt.Printf("bench capacity: %d workloads in %d namespaces, %d pods, %.0f series; history %s at %s (the default window is 7d: a 7-day history at this interval holds %.0fx the samples)\n",
		len(fleet), nNamespaces, len(fleet)*nPods, nSeries, window, scrape, (7*24*time.Hour).Hours()/window.Hours())
	fmt.Printf("bench capacity: GOMAXPROCS %d, %d CPUs\n", runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("capacity run (cluster from memory, Prometheus for real): %.1f s, %d PromQL queries (Prometheus answered in %.1f s), %d workloads sized\n",
		elapsed.Seconds(), queries, res.Fleet.Telemetry.Elapsed.Seconds(), sized)
	fmt.Printf("per-workload peer: %.2f s for %d workloads (%d queries), so about %.0f s for %d, %.0f queries: the fixed set is %.1fx faster\n",
		peer.Seconds(), sample, 9*sample, peerFleet.Seconds(), len(fleet), float64(9*len(fleet)), peerFleet.Seconds()/elapsed.Seconds())
	return nil
}

func backfill(h meshfleet.History, dir, tsdb string) error {
	if err := os.MkdirAll(tsdb, 0o755); err != nil {
		return err
	}
	start := time.Now()
	var wrote, filled time.Duration
	last := time.Now()
	// One 2-hour chunk at a time, backfilled and removed before the next:
	// the text of a long history would not fit the disk at once.
	_, err := h.WriteChunks(dir, 2*time.Hour, func(path string) error {
		wrote += time.Since(last)
		t := time.Now()
		info, _ := os.Stat(path)
		if err := promtest.Backfill(tsdb, path); err != nil {
			return err
		}
		filled += time.Since(t)
		fmt.Printf("bench capacity: backfilled %s (%.1f GB of OpenMetrics) in %.0f s\n", filepath.Base(path), float64(info.Size())/1e9, time.Since(t).Seconds())
		last = time.Now()
		return os.Remove(path)
	})
	if err != nil {
		return err
	}
	fmt.Printf("bench capacity: history generated in %.0f s and backfilled in %.0f s (%.0f s in all)\n", wrote.Seconds(), filled.Seconds(), time.Since(start).Seconds())
	return os.WriteFile(filepath.Join(tsdb, "done"), nil, 0o644)
}

const safe = "bcdfghjklmnpqrstvwxz2456789"

func randomName(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = safe[r.IntN(len(safe))]
	}
	return string(b)
}

// generate is a fleet of workloads calling one or two others of their
// namespace, with the daily shape, retries and noise of the tests.
func generate(n, pods, namespaces int) []meshfleet.Workload {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]meshfleet.Workload, n)
	for i := range out {
		ns := fmt.Sprintf("team-%02d", i%namespaces)
		name := fmt.Sprintf("svc-%04d", i)
		hash := randomName(r, 9)
		w := meshfleet.Workload{Namespace: ns, Name: name, PeakInboundPerPod: 20 + r.Float64()*980, Trough: 0.2 + r.Float64()*0.3,
			PeakHour: float64(r.IntN(24)), Caller: "ingress-gateway", RetryRatio: 0.02 * r.Float64(),
			ProxyIdle: 0.01, ProxyCoresPerKRPS: 0.25 + 0.1*r.Float64(), ProxyNoise: 0.05, AppIdle: 0.05, AppCoresPerKRPS: 1,
			ProxyMemory: float64(50+r.IntN(40)) * (1 << 20), AppMemory: float64(100+r.IntN(400)) * (1 << 20), CPULimited: true, ThrottledAtPeak: 0.1 * r.Float64()}
		for c := range 1 + r.IntN(2) {
			dst := fmt.Sprintf("svc-%04d", (i+namespaces*(c+1))%n)
			w.Calls = append(w.Calls, meshfleet.Call{Service: dst + "." + ns + ".svc.cluster.local", Namespace: ns, Workload: dst, PerInbound: 0.5 + r.Float64()})
		}
		for p := range pods {
			_ = p
			w.Pods = append(w.Pods, name+"-"+hash+"-"+randomName(r, 5))
		}
		out[i] = w
	}
	return out
}

// kubeSources serves the fleet's objects from memory.
func kubeSources(fleet []meshfleet.Workload) (collect.Sources, error) {
	var objs []kruntime.Object
	target := int32(70)
	ready := true
	for _, w := range fleet {
		labels := map[string]string{"app": w.Name}
		replicas := int32(len(w.Pods))
		tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
			sizing.AnnotationProxyCPU: "100m", sizing.AnnotationProxyCPULimit: "1", sizing.AnnotationProxyMemory: "128Mi",
			sizing.AnnotationProxyMemoryLimit: "256Mi", sizing.AnnotationProxyConfig: "concurrency: 2\n"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}}}}
		objs = append(objs, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name, Labels: labels},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}})
		for _, p := range w.Pods {
			objs = append(objs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: p, Labels: labels},
				Spec: tmpl.Spec, Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}})
		}
		objs = append(objs, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: w.Name, APIVersion: "apps/v1"},
				MaxReplicas: 2 * replicas, Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}}})
		objs = append(objs, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}}})
		slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: w.Name}},
			AddressType: discoveryv1.AddressTypeIPv4}
		for i := range w.Pods {
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		}
		objs = append(objs, slice)
	}
	kube := fake.NewClientset(objs...)
	scheme := kruntime.NewScheme()
	gvr := schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "sidecars"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{gvr: "SidecarList"})
	return collect.Sources{Kube: kube, Dynamic: dyn}, nil
}

// perWorkload times the same nine figures queried for one workload at a
// time, on the first sample workloads.
func perWorkload(ctx context.Context, c *prom.Client, fleet []meshfleet.Workload, q prom.FleetQuery, sample int) (time.Duration, error) {
	start := time.Now()
	for _, w := range fleet[:min(sample, len(fleet))] {
		q.Namespaces = []string{w.Namespace}
		for _, nq := range prom.FleetQueries(q) {
			expr := oneWorkload(nq.Expr, w.Namespace, w.Name)
			if _, err := c.Vector(ctx, expr, q.At); err != nil {
				return 0, err
			}
		}
	}
	return time.Since(start), nil
}

// oneWorkload narrows a fleet query's matchers from the namespace to one
// workload: its Istio labels, or its pods' names.
func oneWorkload(expr, ns, name string) string {
	expr = strings.ReplaceAll(expr, fmt.Sprintf(`destination_workload_namespace=%q`, ns), fmt.Sprintf(`destination_workload_namespace=%q,destination_workload=%q`, ns, name))
	expr = strings.ReplaceAll(expr, fmt.Sprintf(`source_workload_namespace=%q`, ns), fmt.Sprintf(`source_workload_namespace=%q,source_workload=%q`, ns, name))
	return regexp.MustCompile(`([{,])namespace="`+regexp.QuoteMeta(ns)+`"`).ReplaceAllString(expr, fmt.Sprintf(`${1}namespace=%q,pod=~%q`, ns, regexp.QuoteMeta(name)+"-.*"))
}
