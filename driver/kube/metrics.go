package kube

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"
	"sigs.k8s.io/yaml"
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
	api       promv1.API
	url       string
	ns, app   string
	interval  time.Duration
	settle    time.Duration
	intervalF string // where the interval came from
}

// newPromSource connects, checks that Prometheus answers, and learns the
// scrape interval. An unreachable Prometheus fails here, before anything
// in the cluster is changed.
func newPromSource(ctx context.Context, cfg PrometheusConfig, ns, app string) (*promSource, error) {
	rt := http.RoundTripper(&http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
	})
	if cfg.TokenFile != "" {
		rt = bearerFile{path: cfg.TokenFile, next: rt}
	}
	client, err := promapi.NewClient(promapi.Config{Address: cfg.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("--prometheus-url %s: %w", cfg.URL, err)
	}
	s := &promSource{api: promv1.NewAPI(client), url: cfg.URL, ns: ns, app: app, interval: cfg.ScrapeInterval, settle: cfg.Settle}
	qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conf, err := s.api.Config(qctx)
	switch {
	case err != nil && isUnreachable(err):
		return nil, fmt.Errorf("prometheus at %s is unreachable: %w", cfg.URL, err)
	case s.interval > 0:
		s.intervalF = "--prometheus-scrape-interval"
	case err != nil:
		// Some managed Prometheus services do not serve their configuration.
		if _, _, _, qerr := s.api.Query(qctx, "1", time.Now()); qerr != nil {
			return nil, fmt.Errorf("prometheus at %s does not answer queries: %w", cfg.URL, qerr)
		}
		s.interval, s.intervalF = DefaultScrapeInterval, "assumed (Prometheus' configuration unreadable: "+err.Error()+")"
	default:
		s.interval, s.intervalF = scrapeInterval(conf.YAML)
	}
	if s.settle <= 0 {
		s.settle = min(s.interval, 15*time.Second)
	}
	return s, nil
}

// bearerFile sets Authorization: Bearer from a token file, read at each
// request so that a rotated token (a projected service account token) is
// picked up. The token goes into the header only: errors name the file,
// never its content.
type bearerFile struct {
	path string
	next http.RoundTripper
}

func (b bearerFile) RoundTrip(r *http.Request) (*http.Response, error) {
	data, err := os.ReadFile(b.path)
	if err != nil {
		return nil, fmt.Errorf("--prometheus-token-file: %w", err)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(data)))
	return b.next.RoundTrip(r)
}

func isUnreachable(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout())
}

// scrapeInterval reads the interval of the cAdvisor job from Prometheus'
// configuration: a job whose name mentions cadvisor, else the global one.
func scrapeInterval(conf string) (time.Duration, string) {
	var c struct {
		Global struct {
			ScrapeInterval string `json:"scrape_interval"`
		} `json:"global"`
		Jobs []struct {
			Name           string `json:"job_name"`
			ScrapeInterval string `json:"scrape_interval"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(conf), &c); err != nil {
		return DefaultScrapeInterval, "assumed (Prometheus' configuration unparsable)"
	}
	for _, j := range c.Jobs {
		if strings.Contains(strings.ToLower(j.Name), "cadvisor") && j.ScrapeInterval != "" {
			if d, err := model.ParseDuration(j.ScrapeInterval); err == nil {
				return time.Duration(d), "Prometheus' configuration (job " + j.Name + ")"
			}
		}
	}
	if d, err := model.ParseDuration(c.Global.ScrapeInterval); err == nil && d > 0 {
		return time.Duration(d), "Prometheus' configuration (global)"
	}
	return DefaultScrapeInterval, "assumed (no scrape_interval in Prometheus' configuration)"
}

func (s *promSource) Describe() string {
	return fmt.Sprintf("prometheus %s: cAdvisor series (container_cpu_usage_seconds_total, container_cpu_cfs_*_periods_total, container_memory_working_set_bytes), scrape interval %v from %s",
		s.url, s.interval, s.intervalF)
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
func (s *promSource) selector(pods []string) string {
	quoted := make([]string, len(pods))
	for i, p := range pods {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return fmt.Sprintf(`{namespace=%q,pod=~%q,container=~%q}`, s.ns, strings.Join(quoted, "|"),
		regexp.QuoteMeta(SidecarContainerName)+"|"+regexp.QuoteMeta(s.app))
}

// Queries are the PromQL expressions for a window of w: CPU seconds and CFS
// periods as increase() over the window, memory as its maximum.
func (s *promSource) Queries(pods []string, w time.Duration) map[string]string {
	sel, win := s.selector(pods), model.Duration(w).String()
	return map[string]string{
		"cpu":       fmt.Sprintf("sum by (pod, container) (increase(container_cpu_usage_seconds_total%s[%s]))", sel, win),
		"periods":   fmt.Sprintf("sum by (pod, container) (increase(container_cpu_cfs_periods_total%s[%s]))", sel, win),
		"throttled": fmt.Sprintf("sum by (pod, container) (increase(container_cpu_cfs_throttled_periods_total%s[%s]))", sel, win),
		"memory":    fmt.Sprintf("max by (pod, container) (max_over_time(container_memory_working_set_bytes%s[%s]))", sel, win),
	}
}

// window evaluates the queries at the run's end over whole scrape intervals
// of the run (its last ones), after waiting for the last scrapes to land.
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
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	byQuery := map[string]map[string]map[string]float64{} // query -> container -> pod -> value
	for name, q := range s.Queries(pods, w) {
		v, _, _, err := s.api.Query(qctx, q, end)
		if err != nil {
			if isUnreachable(err) {
				return nil, fmt.Errorf("prometheus at %s is unreachable: %w", s.url, err)
			}
			return nil, fmt.Errorf("prometheus query %s: %w", q, err)
		}
		vec, ok := v.(model.Vector)
		if !ok {
			return nil, fmt.Errorf("prometheus query %s: expected a vector, got %s", q, v.Type())
		}
		m := map[string]map[string]float64{}
		for _, smp := range vec {
			c, p := string(smp.Metric["container"]), string(smp.Metric["pod"])
			if m[c] == nil {
				m[c] = map[string]float64{}
			}
			m[c][p] = float64(smp.Value)
		}
		byQuery[name] = m
	}
	if len(byQuery["cpu"][SidecarContainerName]) == 0 {
		return nil, fmt.Errorf("prometheus returned no container_cpu_usage_seconds_total series for container %s of pods %s in namespace %s over the %v before %s: "+
			"is the kubelet's cAdvisor scraped, with namespace, pod and container labels?", SidecarContainerName, strings.Join(pods, ","), s.ns, w, end.Format(time.RFC3339))
	}
	u := &usage{Window: w, Source: s.Describe()}
	u.Proxy = promContainer(byQuery, SidecarContainerName, w)
	u.App = promContainer(byQuery, s.app, w)
	if u.Proxy.Pods < len(pods) {
		u.Warnings = append(u.Warnings, fmt.Sprintf("prometheus had %s CPU series for %d of %d pods: figures are the average of those", SidecarContainerName, u.Proxy.Pods, len(pods)))
	}
	if !u.Proxy.HasThrottling {
		u.Warnings = append(u.Warnings, "no CFS period series for the sidecar (no CPU limit, or cAdvisor does not export them): throttling not measured")
	}
	return u, nil
}

func promContainer(q map[string]map[string]map[string]float64, container string, w time.Duration) containerUsage {
	var c containerUsage
	cpu := q["cpu"][container]
	c.Pods = len(cpu)
	if c.Pods == 0 {
		return c
	}
	for _, v := range cpu {
		c.Cores += v / w.Seconds()
	}
	c.Cores /= float64(c.Pods)
	if periods := q["periods"][container]; len(periods) > 0 {
		c.HasThrottling = true
		for pod, v := range periods {
			c.Periods += v
			c.ThrottledPeriods += q["throttled"][container][pod]
		}
		c.Periods /= float64(len(periods))
		c.ThrottledPeriods /= float64(len(periods))
	}
	for _, v := range q["memory"][container] {
		c.WorkingSetBytes = max(c.WorkingSetBytes, int64(v))
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
	u.Proxy = apiContainer(use, SidecarContainerName)
	u.App = apiContainer(use, s.app)
	if u.Proxy.Pods == 0 {
		return nil, fmt.Errorf("metrics.k8s.io returned no usage of container %s for pods %s during the run (%s to %s)",
			SidecarContainerName, strings.Join(pods, ","), start.Format(time.RFC3339), end.Format(time.RFC3339))
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
