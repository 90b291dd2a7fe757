package kube

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
)

// DefaultScrapeInterval is assumed when Prometheus' configuration cannot be
// read and no --prometheus-scrape-interval is given.
const DefaultScrapeInterval = 15 * time.Second

// containerUsage is one container's figures over a step, per pod.
type containerUsage struct {
	Cores float64 // average CPU over the window
	// Periods and ThrottledPeriods are CFS periods per pod over the window.
	Periods, ThrottledPeriods float64
	HasThrottling             bool
	WorkingSetBytes           int64 // the largest over pods and the window
	Pods                      int   // pods that reported the container
}

// usage is what a metrics source measured over one step.
type usage struct {
	Proxy, App containerUsage
	Window     time.Duration // what the figures average over
	Source     string
	Warnings   []string
}

// metricsSource reads the containers' CPU, throttling and memory over a
// step. begin is called as the measured run starts (a sampling source
// starts sampling), window when it has ended.
type metricsSource interface {
	// Describe is the source as the results record it.
	Describe() string
	begin(ctx context.Context, pods []string) (stop func())
	window(ctx context.Context, pods []string, start, end time.Time) (*usage, error)
}

// PrometheusConfig selects the Prometheus to query.
type PrometheusConfig struct {
	URL string
	// TokenFile holds a bearer token, read at each request (it may be
	// rotated); the token is never logged nor written to the results.
	TokenFile string
	// ScrapeInterval of the cAdvisor series; 0: read from Prometheus'
	// configuration, else DefaultScrapeInterval.
	ScrapeInterval time.Duration
	// Settle is how long after a run's end the queries wait for the last
	// scrapes to land; 0: one scrape interval, at most 15 s.
	Settle time.Duration
}

// promSource queries Prometheus for the kubelet's cAdvisor series.
type promSource struct {
	client    *prom.Client
	ns, app   string
	interval  time.Duration
	settle    time.Duration
	intervalF string // where the interval came from
}

// newPromSource connects, checks that Prometheus answers, and learns the
// scrape interval. An unreachable Prometheus fails here, before anything
// in the cluster is changed.
func newPromSource(ctx context.Context, cfg PrometheusConfig, ns, app string) (*promSource, error) {
	client, err := prom.New(prom.Config{URL: cfg.URL, TokenFile: cfg.TokenFile, QueryTimeout: 15 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("--prometheus-url %s: %w", cfg.URL, err)
	}
	s := &promSource{client: client, ns: ns, app: app, interval: cfg.ScrapeInterval, settle: cfg.Settle}
	found, err := client.ScrapeInterval(ctx)
	switch {
	case err != nil && prom.Unreachable(err):
		return nil, err
	case s.interval > 0:
		s.intervalF = "--prometheus-scrape-interval"
	case err != nil:
		// Some managed Prometheus services do not serve their configuration.
		if perr := client.Ping(ctx); perr != nil {
			return nil, perr
		}
		s.interval, s.intervalF = DefaultScrapeInterval, "assumed ("+err.Error()+")"
	case !found.Found:
		s.interval, s.intervalF = DefaultScrapeInterval, "assumed ("+found.From+")"
	default:
		s.interval, s.intervalF = found.Interval, found.From
	}
	if s.settle <= 0 {
		s.settle = min(s.interval, 15*time.Second)
	}
	return s, nil
}

func (s *promSource) Describe() string {
	return fmt.Sprintf("prometheus %s: cAdvisor series (container_cpu_usage_seconds_total, container_cpu_cfs_*_periods_total, container_memory_working_set_bytes), scrape interval %v from %s",
		s.client.URL(), s.interval, s.intervalF)
}

func (s *promSource) begin(context.Context, []string) func() { return func() {} }

// Window is the query window for a run of length run: whole scrape
// intervals, at least two, so that increase() has samples at both ends.
func (s *promSource) Window(run time.Duration) (time.Duration, error) {
	w := run.Truncate(s.interval)
	if w < 2*s.interval {
		return 0, fmt.Errorf("the measured run (%v) is too short for Prometheus: it needs at least 2 scrape intervals (2 x %v); raise --duration",
			run.Round(time.Millisecond), s.interval)
	}
	return w, nil
}

// selector matches the pods' proxy and app containers.
func (s *promSource) selector(pods []string) prom.Selector {
	return prom.Selector{Namespaces: []string{s.ns}, Pods: pods, Containers: []string{cluster.SidecarContainerName, s.app}}
}

// window reads the usage at the run's end over whole scrape intervals of
// the run (its last ones), after waiting for the last scrapes to land.
func (s *promSource) window(ctx context.Context, pods []string, start, end time.Time) (*usage, error) {
	w, err := s.Window(end.Sub(start))
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Until(end.Add(s.settle))):
	}
	byKey, err := s.client.ContainerUsage(ctx, s.selector(pods), w, end)
	if err != nil {
		return nil, err
	}
	u := &usage{Window: w, Source: s.Describe()}
	u.Proxy = promContainer(byKey, cluster.SidecarContainerName, w)
	u.App = promContainer(byKey, s.app, w)
	if u.Proxy.Pods == 0 {
		return nil, fmt.Errorf("prometheus returned no container_cpu_usage_seconds_total series for container %s of pods %s in namespace %s over the %v before %s: "+
			"is the kubelet's cAdvisor scraped, with namespace, pod and container labels?", cluster.SidecarContainerName, strings.Join(pods, ","), s.ns, w, end.Format(time.RFC3339))
	}
	if u.Proxy.Pods < len(pods) {
		u.Warnings = append(u.Warnings, fmt.Sprintf("prometheus had %s CPU series for %d of %d pods: figures are the average of those", cluster.SidecarContainerName, u.Proxy.Pods, len(pods)))
	}
	if !u.Proxy.HasThrottling {
		u.Warnings = append(u.Warnings, "no CFS period series for the sidecar (no CPU limit, or cAdvisor does not export them): throttling not measured")
	}
	return u, nil
}

// promContainer averages one container's figures over the pods that
// reported it; memory is the largest pod's.
func promContainer(byKey map[prom.Key]prom.ContainerUsage, container string, w time.Duration) containerUsage {
	var c containerUsage
	periodPods := 0
	for k, x := range byKey {
		if k.Container != container {
			continue
		}
		if x.HasCPU {
			c.Pods++
			c.Cores += x.CPUSeconds / w.Seconds()
		}
		if x.HasPeriods {
			periodPods++
			c.Periods += x.Periods
			c.ThrottledPeriods += x.ThrottledPeriods
		}
		if x.HasMemory {
			c.WorkingSetBytes = max(c.WorkingSetBytes, int64(x.MaxWorkingSetBytes))
		}
	}
	if c.Pods == 0 {
		return containerUsage{}
	}
	c.Cores /= float64(c.Pods)
	if periodPods > 0 {
		c.HasThrottling = true
		c.Periods /= float64(periodPods)
		c.ThrottledPeriods /= float64(periodPods)
	}
	return c
}

// metricsAPISource samples metrics.k8s.io (metrics-server) during the run:
// each sample is the kubelet's average over its own window (typically 15 s
// to a minute), so the figures are coarser than Prometheus', and there is
// no throttling.
type metricsAPISource struct {
	client metricsclient.Interface
	ns     string
	app    string
	every  time.Duration

	mu      sync.Mutex
	samples []podSample
}

type podSample struct {
	pod, container string
	at             time.Time
	window         time.Duration
	cores          float64
	memory         int64
}

// newMetricsAPISource checks that metrics.k8s.io is served in ns.
func newMetricsAPISource(ctx context.Context, client metricsclient.Interface, ns, app string, every time.Duration) (*metricsAPISource, error) {
	if every <= 0 {
		every = 5 * time.Second
	}
	qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := client.MetricsV1beta1().PodMetricses(ns).List(qctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, fmt.Errorf("no --prometheus-url, and metrics.k8s.io is not available in %s (is metrics-server installed?): %w", ns, err)
	}
	return &metricsAPISource{client: client, ns: ns, app: app, every: every}, nil
}

func (s *metricsAPISource) Describe() string {
	return "metrics.k8s.io (metrics-server): coarser than Prometheus: point samples each averaging the kubelet's own window, no CPU throttling"
}

func (s *metricsAPISource) sample(ctx context.Context, pods []string) {
	list, err := s.client.MetricsV1beta1().PodMetricses(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pm := range list.Items {
		if !slices.Contains(pods, pm.Name) {
			continue
		}
		for _, c := range pm.Containers {
			s.samples = append(s.samples, podSample{pod: pm.Name, container: c.Name, at: pm.Timestamp.Time, window: pm.Window.Duration,
				cores: float64(c.Usage.Cpu().MilliValue()) / 1000, memory: c.Usage.Memory().Value()})
		}
	}
}

func (s *metricsAPISource) begin(ctx context.Context, pods []string) func() {
	s.mu.Lock()
	s.samples = nil
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample(ctx, pods)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// window keeps the distinct samples whose averaging window lies within the
// run (falling back, with a warning, to those that overlap it) and
// averages them.
func (s *metricsAPISource) window(ctx context.Context, pods []string, start, end time.Time) (*usage, error) {
	s.sample(ctx, pods) // the last one, as the run ends
	s.mu.Lock()
	defer s.mu.Unlock()
	const slack = time.Second
	seen := map[string]bool{}
	var inside, overlap []podSample
	for _, x := range s.samples {
		key := x.pod + "/" + x.container + "/" + x.at.String()
		if seen[key] || !slices.Contains(pods, x.pod) {
			continue
		}
		seen[key] = true
		switch {
		case !x.at.Before(start.Add(x.window-slack)) && !x.at.After(end.Add(slack)):
			inside = append(inside, x)
		case x.at.After(start) && x.at.Add(-x.window).Before(end):
			overlap = append(overlap, x)
		}
	}
	u := &usage{Source: s.Describe(), Window: end.Sub(start)}
	use := inside
	if len(inside) == 0 {
		use = overlap
		u.Warnings = append(u.Warnings, "metrics.k8s.io: no sample's window lies within the run; figures from samples that only overlap it (lengthen --duration)")
	}
	u.Proxy = apiContainer(use, cluster.SidecarContainerName)
	u.App = apiContainer(use, s.app)
	if u.Proxy.Pods == 0 {
		return nil, fmt.Errorf("metrics.k8s.io returned no usage of container %s for pods %s during the run (%s to %s)",
			cluster.SidecarContainerName, strings.Join(pods, ","), start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	u.Warnings = append(u.Warnings, "metrics.k8s.io: CPU from point samples of the kubelet's averaging window, no throttling: coarser than Prometheus")
	return u, nil
}

func apiContainer(samples []podSample, container string) containerUsage {
	var c containerUsage
	perPod := map[string][]float64{}
	for _, x := range samples {
		if x.container != container {
			continue
		}
		perPod[x.pod] = append(perPod[x.pod], x.cores)
		c.WorkingSetBytes = max(c.WorkingSetBytes, x.memory)
	}
	c.Pods = len(perPod)
	for _, v := range perPod {
		var sum float64
		for _, f := range v {
			sum += f
		}
		c.Cores += sum / float64(len(v))
	}
	if c.Pods > 0 {
		c.Cores /= float64(c.Pods)
	}
	if math.IsNaN(c.Cores) {
		c.Cores = 0
	}
	return c
}
