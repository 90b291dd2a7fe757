package kube

import (
	"context"
	"encoding/json"
	"errors"
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

// agentProxy is a podProxy whose every request the stub answers, one
// in-process load agent (loadgen.Agent) per pod.
func agentProxy(t *testing.T, stub *podproxystub.Stub) podProxy {
	t.Helper()
	t.Cleanup(stub.Close)
	cs, err := kubernetes.NewForConfig(stubConfig(stub))
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(stubConfig(stub))
	if err != nil {
		t.Fatal(err)
	}
	return podProxy{rest: cs.CoreV1().RESTClient(), transport: transport, ns: "shop"}
}

// proxysizer's load agents, in-process, driven through the pod proxy path
// exactly as a cluster's generator pods are: the rate and connections are
// split, the results merged with the intended-start latency and the
// schedule counts, and judged as a local run.
func TestAgentsThroughThePodProxyPath(t *testing.T) {
	target := podproxystub.StartTarget()
	stub := &podproxystub.Stub{}
	p := agentProxy(t, stub)
	pods := []string{"gen-a", "gen-b"}
	// Connections left to each agent's sizing for its own share, as the
	// engine recommends: a fixed pool this small falls behind on a busy
	// machine (issue 16), which the slow-target case below shows on purpose.
	o := loadgen.Options{URL: target.URL, QPS: 200, Duration: 1500 * time.Millisecond, Labels: "unit"}
	conns := loadgen.ConnectionsFor(100, loadgen.DefaultExpectedLatency, loadgen.Arrival{})
	parts, err := p.runGenerators(context.Background(), pods, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || stub.AgentRuns.Load() != 2 {
		t.Fatalf("%d results, %d runs forwarded", len(parts), stub.AgentRuns.Load())
	}
	for i, part := range parts {
		if s := part.Summary; s.Connections != conns || s.RequestedQPS != 100 || part.Schedule == nil || part.Intended == nil {
			t.Errorf("%s runs half: %d connections at %g qps, schedule %v, intended histogram %v", pods[i], s.Connections, s.RequestedQPS, part.Schedule, part.Intended)
		}
	}
	res, err := mergeGenerators(o, pods, parts)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Requests < 285 || s.Requests > 303 || s.Errors != 0 || s.Connections != 2*conns || s.RequestedQPS != 200 {
		t.Errorf("merged %d requests (%d errors) over %d connections at %g qps; want ~300 at 200 qps for 1.5 s", s.Requests, s.Errors, s.Connections, s.RequestedQPS)
	}
	// The engine makes one untimed call per connection before the schedule starts.
	if got := target.Requests.Load(); got != s.Requests+int64(2*conns) {
		t.Errorf("target saw %d requests, the agents counted %d (+%d first calls)", got, s.Requests, 2*conns)
	}
	if s.IntendedLatencyMs == nil || s.IntendedLatencyMs.P99 < s.LatencyMs.P99 || res.Schedule == nil ||
		res.Schedule.Planned != parts[0].Schedule.Planned+parts[1].Schedule.Planned {
		t.Errorf("merged intended latency %+v (service p99 %.3f ms), schedule %+v", s.IntendedLatencyMs, s.LatencyMs.P99, res.Schedule)
	}
	if !s.Valid || s.BehindRatio > 0.05 || s.AchievedRatio < 0.97 {
		t.Errorf("invalid (behind %.3f, achieved %.3f): %v", s.BehindRatio, s.AchievedRatio, s.InvalidReasons)
	}
	if s.GeneratorCPUCores <= 0 || s.GeneratorCPUCapacity != parts[0].Summary.GeneratorCPUCapacity+parts[1].Summary.GeneratorCPUCapacity {
		t.Errorf("generator CPU %.3f of %.0f cores", s.GeneratorCPUCores, s.GeneratorCPUCapacity)
	}

	// A target slower than the connections carry: each call waits for a
	// free connection, which only the intended-start latency counts, and
	// the merged run fails the behind-schedule gate.
	target.Delay.Store(int64(50 * time.Millisecond))
	slow := loadgen.Options{URL: target.URL, QPS: 100, Connections: 2, Duration: time.Second}
	parts, err = p.runGenerators(context.Background(), pods, slow)
	target.Delay.Store(0)
	if err != nil {
		t.Fatal(err)
	}
	res, err = mergeGenerators(slow, pods, parts)
	if err != nil {
		t.Fatal(err)
	}
	s = res.Summary
	if parts[0].Summary.Connections != 1 || s.Connections != 2 {
		t.Errorf("2 connections split over 2 agents: %d and %d in all", parts[0].Summary.Connections, s.Connections)
	}
	if s.Valid || !strings.Contains(strings.Join(s.InvalidReasons, " "), "behind schedule") || s.IntendedLatencyMs.P99 < 2*s.LatencyMs.P99 {
		t.Errorf("slow target: valid %v %v; p99 %.1f ms service, %.1f ms intended", s.Valid, s.InvalidReasons, s.LatencyMs.P99, s.IntendedLatencyMs.P99)
	}
	if w := strings.Join(s.Warnings, " "); !strings.Contains(w, "load generator pod gen-a: its own share was invalid") {
		t.Errorf("warnings do not name the generators behind: %v", s.Warnings)
	}
}

// What the engine reports about real-time priority reaches the step: the
// in-process agents run as root here and get it; the load pods have no
// CAP_SYS_NICE and do not, which their results say (GeneratorRealtime
// false) and the merged run turns into a warning.
func TestAgentsWithoutRealtimePriority(t *testing.T) {
	target := podproxystub.StartTarget()
	p := agentProxy(t, &podproxystub.Stub{})
	o := loadgen.Options{URL: target.URL, QPS: 100, Connections: 2, Duration: 500 * time.Millisecond}
	parts, err := p.runGenerators(context.Background(), []string{"gen-a"}, o)
	if err != nil {
		t.Fatal(err)
	}
	const said = "ran at normal priority"
	res, err := mergeGenerators(o, []string{"gen-a"}, parts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Summary.GeneratorRealtime || strings.Contains(strings.Join(res.Summary.Warnings, " "), said) {
		t.Errorf("as root: realtime %v, warnings %v", res.Summary.GeneratorRealtime, res.Summary.Warnings)
	}
	parts[0].Summary.GeneratorRealtime = false // as in an unprivileged pod
	if res, err = mergeGenerators(o, []string{"gen-a"}, parts); err != nil || !strings.Contains(strings.Join(res.Summary.Warnings, " "), said+": real-time priority needs CAP_SYS_NICE") {
		t.Errorf("unprivileged: %v %v", err, res.Summary.Warnings)
	}
	// A max-rate run never asks for it: nothing to say.
	o.QPS = loadgen.MaxRate
	if res, err = mergeGenerators(o, []string{"gen-a"}, parts); err != nil || strings.Contains(strings.Join(res.Summary.Warnings, " "), said) {
		t.Errorf("max rate: %v %v", err, res.Summary.Warnings)
	}
}

// A generator's failure is the run's, named by its pod; the other
// generators are stopped, not left loading.
func TestAgentFailuresAreReported(t *testing.T) {
	target := podproxystub.StartTarget()
	stub := &podproxystub.Stub{}
	p := agentProxy(t, stub)
	pods := []string{"gen-a", "gen-b"}
	o := loadgen.Options{URL: target.URL, QPS: 40, Connections: 2, Duration: 2 * time.Second}
	running := func(pod string) bool {
		on, err := (&loadgen.AgentClient{BaseURL: stub.AgentURL("shop", pod)}).Running(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return on
	}
	// A stopped run ends within about one call.
	stopsSoon := func(pod string) bool {
		for range 100 {
			if !running(pod) {
				return true
			}
			time.Sleep(10 * time.Millisecond)
		}
		return false
	}

	// An agent already busy refuses the run.
	busy := make(chan error, 1)
	go func() {
		_, err := (&loadgen.AgentClient{BaseURL: stub.AgentURL("shop", "gen-a")}).Run(context.Background(), loadgen.Options{URL: target.URL, QPS: 10, Duration: 5 * time.Second})
		busy <- err
	}()
	for !running("gen-a") {
		time.Sleep(10 * time.Millisecond)
	}
	begin := time.Now()
	_, err := p.runGenerators(context.Background(), pods, o)
	if err == nil || !strings.Contains(err.Error(), "load generator pod gen-a: a run is already in progress on this agent (HTTP 409)") {
		t.Errorf("busy agent: %v", err)
	}
	if took := time.Since(begin); took > time.Second || !stopsSoon("gen-b") {
		t.Errorf("gen-b not stopped at once: failed after %v", took)
	}
	if err := <-busy; err == nil {
		t.Error("the busy run was not stopped with the others")
	}

	// An agent that dies mid-run.
	stub.OnAgentRun = func(ns, pod string) {
		if pod == "gen-b" {
			time.AfterFunc(300*time.Millisecond, func() { stub.CrashAgent(ns, pod) })
		}
	}
	begin = time.Now()
	_, err = p.runGenerators(context.Background(), pods, o)
	if err == nil || !strings.Contains(err.Error(), "load generator pod gen-b: the API server's pod proxy: error trying to reach service") {
		t.Errorf("crashed agent: %v", err)
	}
	if took := time.Since(begin); took > 1500*time.Millisecond || !stopsSoon("gen-a") {
		t.Errorf("gen-a not stopped when gen-b failed after %v", took)
	}
	stub.OnAgentRun = nil

	// An interrupt: the call returns the cancellation at once and every
	// agent's run is stopped, not left loading the target.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	begin, sent := time.Now(), target.Requests.Load()
	_, err = p.runGenerators(ctx, []string{"gen-c", "gen-d"}, o) // gen-b crashed above
	if !errors.Is(err, context.Canceled) || time.Since(begin) > time.Second || !stopsSoon("gen-c") || !stopsSoon("gen-d") {
		t.Errorf("interrupted after %v: %v", time.Since(begin), err)
	}
	atStop := target.Requests.Load()
	time.Sleep(300 * time.Millisecond)
	if after := target.Requests.Load(); atStop == sent || after != atStop {
		t.Errorf("target calls: %d before the run, %d when it stopped, %d 300 ms later", sent, atStop, after)
	}

	// The agent's refusal of the options keeps its type.
	_, err = p.runGenerators(context.Background(), []string{"gen-a"}, loadgen.Options{QPS: 10, Duration: time.Second})
	var fe *loadgen.FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "load generator pod gen-a: ") {
		t.Errorf("no URL: %v", err)
	}
	// A pod the API server does not know.
	stub.PodExists = func(_, pod string) bool { return pod != "gone" }
	if _, err := p.runGenerators(context.Background(), []string{"gone"}, o); err == nil || !strings.Contains(err.Error(), `load generator pod gone: the API server's pod proxy: pods "gone" not found (HTTP 404)`) {
		t.Errorf("missing pod: %v", err)
	}
}

// Three generators share 100 qps on 8 connections: a third of the rate
// each, 3 connections each (rounded up), a seed of their own.
func TestShare(t *testing.T) {
	o := loadgen.Options{QPS: 100, Connections: 8, Seed: 7, Arrival: loadgen.Arrival{Kind: loadgen.Poisson}}
	seeds := map[uint64]bool{}
	for i := range 3 {
		s := share(o, 3, i)
		if s.QPS != 100.0/3 || s.Connections != 3 || s.Arrival != o.Arrival {
			t.Errorf("share %d: %g qps on %d connections, %v", i, s.QPS, s.Connections, s.Arrival)
		}
		seeds[s.Seed] = true
	}
	if len(seeds) != 3 {
		t.Errorf("seeds %v, want 3 distinct", seeds)
	}
	if s := share(loadgen.Options{QPS: 100}, 3, 1); s.Connections != 0 || s.Seed != 0 {
		t.Errorf("left to the engine: %d connections, seed %d", s.Connections, s.Seed)
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
