package kube

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/podproxystub"
	"github.com/proxysizer/proxysizer/loadgen"
)

// stubConfig is a client configuration whose every request the stub
// answers (nothing listens at its host).
func stubConfig(stub *podproxystub.Stub) *rest.Config {
	rc := &rest.Config{Host: "http://127.0.0.1:1"}
	rc.Wrap(stub.Wrap)
	return rc
}

// fortio's REST server, in-process, driven through the pod proxy path
// exactly as a cluster's generator pods are: the rate and connections are
// split, the results merged.
func TestFortioRESTThroughThePodProxyPath(t *testing.T) {
	target := podproxystub.StartTarget()
	stub := &podproxystub.Stub{Fortio: podproxystub.FortioServer()}
	cs, err := kubernetes.NewForConfig(stubConfig(stub))
	if err != nil {
		t.Fatal(err)
	}
	p := podProxy{rest: cs.CoreV1().RESTClient(), ns: "shop"}
	spec := driver.LoadSpec{Connections: 4, Labels: "unit"}
	parts, err := p.runGenerators(context.Background(), []string{"gen-a", "gen-b"}, spec, target.URL, 200, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || stub.FortioRuns.Load() != 2 {
		t.Fatalf("%d results, %d runs forwarded", len(parts), stub.FortioRuns.Load())
	}
	for _, part := range parts {
		if part.NumThreads != 2 || part.RequestedQPS != "100" {
			t.Errorf("each generator runs half: %d threads at %s qps", part.NumThreads, part.RequestedQPS)
		}
	}
	res, err := loadgen.FromHTTPResults(loadgen.RemoteRun{URL: target.URL, QPS: 200}, parts)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Requests < 270 || s.Requests > 310 || s.Errors != 0 || s.Connections != 4 {
		t.Errorf("merged %d requests (%d errors) over %d connections; want ~300 at 200 qps for 1.5 s", s.Requests, s.Errors, s.Connections)
	}
	// fortio makes one uncounted call per connection before its clock starts.
	if got := target.Requests.Load(); got != s.Requests+4 {
		t.Errorf("target saw %d requests, fortio counted %d (+4 warm-up calls)", got, s.Requests)
	}
	if !s.Valid {
		t.Errorf("invalid: %v", s.InvalidReasons)
	}

	// A fortio error (no URL) comes back as the step's error.
	if _, err := p.runGenerators(context.Background(), []string{"gen-a"}, spec, "", 10, time.Second); err == nil || !strings.Contains(err.Error(), "URL is required") {
		t.Errorf("fortio's error: %v", err)
	}
	// A pod the API server does not know.
	stub.PodExists = func(_, pod string) bool { return pod != "gone" }
	if _, err := p.runGenerators(context.Background(), []string{"gone"}, spec, target.URL, 10, time.Second); err == nil || !strings.Contains(err.Error(), "could not find") {
		t.Errorf("missing pod: %v", err)
	}
}

func TestEnvoyStatsParsing(t *testing.T) {
	c, err := parseEnvoyStats([]byte(podproxystub.EnvoyText(100, 300, 2, 40<<20)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Inbound != 100 || c.Outbound != 300 || c.Concurrency != 2 || !c.HasConcurrency || c.MemAllocated != 40<<20 || !strings.Contains(c.Source, "conn_manager_prefix") {
		t.Errorf("%+v", c)
	}
	// Istio's default stats inclusion: only the standard metric.
	istio := `# TYPE istio_requests_total counter
istio_requests_total{reporter="destination",response_code="200",source_workload="load"} 90
istio_requests_total{reporter="destination",response_code="503",source_workload="load"} 10
istio_requests_total{reporter="source",response_code="200",destination_workload="db"} 200
`
	c, err = parseEnvoyStats([]byte(istio))
	if err != nil {
		t.Fatal(err)
	}
	if c.Inbound != 100 || c.Outbound != 200 || c.HasConcurrency || !strings.Contains(c.Source, "istio_requests_total") {
		t.Errorf("%+v", c)
	}
	if _, err := parseEnvoyStats([]byte("# TYPE envoy_server_live gauge\nenvoy_server_live 1\n")); err == nil || !strings.Contains(err.Error(), "proxyStatsMatcher") {
		t.Errorf("no request counters: %v", err)
	}
	before := map[string]envoyCounters{"a": {Inbound: 10, Outbound: 20}, "b": {Inbound: 5, Outbound: 5}}
	after := map[string]envoyCounters{"a": {Inbound: 110, Outbound: 220}, "b": {Inbound: 105, Outbound: 205}}
	in, all, err := requestDeltas(before, after, []string{"a", "b"})
	if err != nil || in != 200 || all != 600 {
		t.Errorf("deltas %d %d %v", in, all, err)
	}
	after["b"] = envoyCounters{Inbound: 1}
	if _, _, err := requestDeltas(before, after, []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), "restarted") {
		t.Errorf("restart: %v", err)
	}
}

func TestPrometheusWindowIsWholeScrapeIntervals(t *testing.T) {
	s := &promSource{ns: "shop", app: "app", interval: 15 * time.Second}
	if _, err := s.Window(29 * time.Second); err == nil || !strings.Contains(err.Error(), "too short for Prometheus") {
		t.Errorf("29 s at 15 s scrapes: %v, want too short", err)
	}
	if w, err := s.Window(47 * time.Second); err != nil || w != 45*time.Second {
		t.Errorf("47 s at 15 s scrapes: %v %v, want 45 s", w, err)
	}
	if got, want := s.selector([]string{"web-1", "web-2"}).String(), `{namespace="shop",pod=~"web-1|web-2",container=~"istio-proxy|app"}`; got != want {
		t.Errorf("selector\n got %s\nwant %s", got, want)
	}
}

// The metrics.k8s.io fallback, served at the transport: samples inside the
// run are averaged, memory is the largest, no throttling, and it says it is
// coarser.
func TestMetricsAPIFallback(t *testing.T) {
	start := time.Now()
	pm := func(pod string, at time.Time, proxyCPU, appCPU string) metricsv1beta1.PodMetrics {
		return metricsv1beta1.PodMetrics{ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: "shop"},
			Timestamp: metav1.NewTime(at), Window: metav1.Duration{Duration: time.Second},
			Containers: []metricsv1beta1.ContainerMetrics{
				{Name: "istio-proxy", Usage: corev1.ResourceList{"cpu": resource.MustParse(proxyCPU), "memory": resource.MustParse("60Mi")}},
				{Name: "app", Usage: corev1.ResourceList{"cpu": resource.MustParse(appCPU), "memory": resource.MustParse("100Mi")}},
			}}
	}
	stub := &podproxystub.Stub{Metrics: func(string) []byte {
		now := time.Now()
		list := metricsv1beta1.PodMetricsList{Items: []metricsv1beta1.PodMetrics{
			pm("web-1", now, "200m", "500m"), pm("web-2", now, "300m", "500m"), pm("other", now, "9", "9"),
		}}
		list.Kind, list.APIVersion = "PodMetricsList", "metrics.k8s.io/v1beta1"
		data, _ := json.Marshal(list)
		return data
	}}
	mc, err := metricsclient.NewForConfig(stubConfig(stub))
	if err != nil {
		t.Fatal(err)
	}
	src, err := newMetricsAPISource(context.Background(), mc, "shop", "app", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	pods := []string{"web-1", "web-2"}
	stop := src.begin(context.Background(), pods)
	time.Sleep(1500 * time.Millisecond)
	stop()
	u, err := src.window(context.Background(), pods, start, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if u.Proxy.Pods != 2 || u.Proxy.Cores < 0.2499 || u.Proxy.Cores > 0.2501 || u.Proxy.HasThrottling || u.Proxy.WorkingSetBytes != 60<<20 {
		t.Errorf("proxy %+v", u.Proxy)
	}
	if u.App.Cores < 0.4999 || u.App.Cores > 0.5001 {
		t.Errorf("app %+v", u.App)
	}
	if !strings.Contains(u.Source, "coarser") || !strings.Contains(strings.Join(u.Warnings, " "), "no throttling") {
		t.Errorf("source %q warnings %v", u.Source, u.Warnings)
	}
	// No samples for these pods: a clear error.
	if _, err := src.window(context.Background(), []string{"web-9"}, start, time.Now()); err == nil || !strings.Contains(err.Error(), "no usage of container istio-proxy") {
		t.Errorf("no samples: %v", err)
	}
	// metrics.k8s.io not served: say so.
	stub.Metrics = nil
	if _, err := newMetricsAPISource(context.Background(), mc, "shop", "app", 0); err == nil || !strings.Contains(err.Error(), "metrics-server") {
		t.Errorf("not served: %v", err)
	}
}
