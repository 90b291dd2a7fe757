package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// DefaultLoadPodTimeout bounds the wait for the load generators to be Ready.
const DefaultLoadPodTimeout = 2 * time.Minute

// BackendConfig configures the Kubernetes backend: the annotation
// controller's Config (which cluster and Deployment, journal, rollout
// timeout) plus the measurement half.
type BackendConfig struct {
	cluster.Config
	// Target is the URL the load generators load, from inside the cluster
	// (usually the Deployment's Service: http://web.shop.svc:8080/).
	Target string
	// AppContainer is the app's container (default: the template's first
	// container that is not istio-proxy).
	AppContainer string
	// LoadGenerators is how many load agent pods share the load (default 1).
	LoadGenerators int
	// LoadImage is their image: proxysizer's, whose agent `proxysizer load
	// --serve` they run (required; DefaultLoadImage names a build's).
	LoadImage string
	// LoadNodeSelector places them (e.g. away from the target's nodes).
	LoadNodeSelector map[string]string
	// LoadPodTimeout bounds the wait for them to be Ready.
	LoadPodTimeout time.Duration
	// EnvoyStatsPort serves the sidecar's /stats/prometheus (default 15090).
	EnvoyStatsPort int
	// Prometheus, when its URL is set, is where CPU, throttling and memory
	// come from; otherwise metrics.k8s.io.
	Prometheus PrometheusConfig
	// MetricsPollInterval is how often metrics.k8s.io is sampled during a
	// run (default 5 s).
	MetricsPollInterval time.Duration
}

// Backend runs sweep steps on a live Deployment: the controller patches and
// restores the sidecar settings, load agent pods in the Deployment's
// namespace make the load with proxysizer's own engine (driven through the
// agent's API over the API server's pod proxy, their results merged and
// judged as a local run's), Envoy's counters give the requests, and
// Prometheus (or metrics.k8s.io) the CPU, throttling and memory. It
// implements driver.Backend.
//
// Figures are per pod: the sidecar of one pod is what is being sized. A
// step's rate is the inbound rate per pod; the generators send it times the
// ready replicas to Target, and every measured total (CPU, requests) is
// divided by the number of pods. Memory is the largest pod's.
type Backend struct {
	cfg       BackendConfig
	ctrl      *cluster.Controller
	client    kubernetes.Interface
	proxy     podProxy
	metrics   metricsSource
	ns        string
	server    string
	workload  cluster.Workload
	app       string
	sidecar   string // the sidecar image, when one is seen
	run       string
	loadPods  []string
	setting   results.Setting
	applied   bool
	warnings  []string // the current setting's, added to each step
	closed    bool
	statsPort int
}

var _ driver.Backend = (*Backend)(nil)

// NewBackend connects, reads the Deployment, checks the metrics source,
// and removes load generator pods a killed sweep of the same Deployment
// left. It changes nothing in the cluster but those leftovers: the load
// pods are created by the first Start, the Deployment patched by each.
func NewBackend(ctx context.Context, cfg BackendConfig) (*Backend, error) {
	if cfg.Target == "" {
		return nil, errors.New("kube: a load target URL is required")
	}
	if cfg.LoadImage == "" {
		return nil, errors.New("kube: a load generator image is required (proxysizer's, e.g. " + DefaultLoadImage("VERSION") + ")")
	}
	rc, ns, err := cfg.Access.RESTConfig()
	if err != nil {
		return nil, err
	}
	if TransportWrapper != nil {
		rc.Wrap(TransportWrapper)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	// Pod-proxy calls last a whole run: no per-request timeout, contexts
	// bound them.
	long := rest.CopyConfig(rc)
	long.Timeout = 0
	longClient, err := kubernetes.NewForConfig(long)
	if err != nil {
		return nil, err
	}
	ctrlCfg := cfg.Config
	ctrlCfg.Server = rc.Host
	ctrl, err := cluster.NewForClient(client, ns, ctrlCfg)
	if err != nil {
		return nil, err
	}
	transport, err := rest.TransportFor(long)
	if err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, ctrl: ctrl, client: client, ns: ctrl.Namespace(), run: newRunID(), statsPort: cfg.EnvoyStatsPort,
		proxy: podProxy{rest: longClient.CoreV1().RESTClient(), transport: transport, ns: ctrl.Namespace()}}
	if b.cfg.LoadGenerators <= 0 {
		b.cfg.LoadGenerators = 1
	}
	if b.cfg.LoadPodTimeout <= 0 {
		b.cfg.LoadPodTimeout = DefaultLoadPodTimeout
	}
	if b.statsPort <= 0 {
		b.statsPort = DefaultEnvoyStatsPort
	}
	if v, err := client.Discovery().ServerVersion(); err == nil {
		b.server = v.GitVersion
	} else {
		return nil, fmt.Errorf("reaching the API server: %w", err)
	}
	w, err := cluster.ReadWorkload(ctx, client, cluster.KindDeployment, b.ns, ctrl.Deployment())
	if err != nil {
		return nil, err
	}
	if err := b.readWorkload(ctx, w); err != nil {
		return nil, err
	}
	if cfg.Prometheus.URL != "" {
		if b.metrics, err = newPromSource(ctx, cfg.Prometheus, b.ns, b.app); err != nil {
			return nil, err
		}
	} else {
		mc, err := metricsclient.NewForConfig(rc)
		if err != nil {
			return nil, err
		}
		if b.metrics, err = newMetricsAPISource(ctx, mc, b.ns, b.app, cfg.MetricsPollInterval); err != nil {
			return nil, err
		}
	}
	if n, err := DeleteLoadPods(ctx, client, b.ns, w.Name); err != nil {
		return nil, fmt.Errorf("removing an earlier sweep's load generator pods: %w", err)
	} else if n > 0 {
		b.logf("removed %d load generator pod(s) an earlier sweep of %s/%s left", n, b.ns, w.Name)
	}
	return b, nil
}

func (b *Backend) logf(format string, args ...any) {
	if b.cfg.Log != nil {
		fmt.Fprintf(b.cfg.Log, "kube: "+format+"\n", args...)
	}
}

// readWorkload finds the app container and the sidecar's image (in the
// template, else in a running pod).
func (b *Backend) readWorkload(ctx context.Context, w cluster.Workload) error {
	b.workload = w
	for _, c := range w.Template.Spec.Containers {
		if c.Name == cluster.SidecarContainerName {
			continue
		}
		if b.cfg.AppContainer == "" || c.Name == b.cfg.AppContainer {
			b.app = c.Name
			break
		}
	}
	if b.app == "" {
		return fmt.Errorf("%s has no container %q", w, b.cfg.AppContainer)
	}
	if s, ok := cluster.SidecarInPodSpec(w.Template.Spec, "the pod template"); ok {
		b.sidecar = s.Image
		return nil
	}
	pods, err := cluster.ListPods(ctx, b.client, w, 5)
	if err != nil {
		return err
	}
	for _, p := range pods {
		if s, ok := cluster.SidecarInPodSpec(p.Spec, "pod "+p.Name); ok {
			b.sidecar = s.Image
			break
		}
	}
	return nil
}

// Describe says what the figures describe: the Deployment's istio-proxy
// sidecar, per pod, on this cluster.
func (b *Backend) Describe() (results.Proxy, results.Environment) {
	version := "unknown (no istio-proxy container seen in the template or its pods)"
	if b.sidecar != "" {
		version = b.sidecar
		if i := strings.LastIndex(b.sidecar, ":"); i > 0 && !strings.Contains(b.sidecar[i:], "/") {
			version = b.sidecar[i+1:] + " (image " + b.sidecar + ")"
		}
	}
	env := results.Environment{
		CgroupVersion:     "kubernetes",
		CPULimitsEnforced: true,
		Placement: results.Placement{Note: fmt.Sprintf("%d load agent pod(s) (%s, proxysizer's own engine) in namespace %s, driven through the API server's pod proxy",
			b.cfg.LoadGenerators, b.cfg.LoadImage, b.ns)},
		Cluster: &results.Cluster{ServerVersion: b.server, Namespace: b.ns, Deployment: b.ctrl.Deployment(), MetricsSource: b.metrics.Describe()},
		Notes: []string{
			"figures are per pod: a step's requested and achieved rates are inbound RPS per pod (the generators send the rate times the ready replicas to " + b.cfg.Target +
				", which the Service spreads over the pods); CPU, CFS periods and requests are the sum over the Deployment's pods divided by their number; memory is the largest pod's",
			"requests through the sidecar from Envoy's own counters (per-listener HTTP connection managers, else istio_requests_total), read through the pod proxy on port " + fmt.Sprint(b.statsPort),
			"no baseline: on a cluster the sidecar intercepts every inbound connection, so the latency the proxy adds is not measured",
			"load from proxysizer load agents in unprivileged pods (no CAP_SYS_NICE, so no real-time priority): latency from each call's actual and intended send, " +
				"the behind-schedule and achieved-rate gates judged on the generators' merged histograms and schedule counts",
		},
	}
	if _, ok := b.metrics.(*metricsAPISource); ok {
		env.Notes = append(env.Notes, "CPU and memory from metrics.k8s.io: coarser than Prometheus (point samples of the kubelet's window), no throttling")
	}
	return results.Proxy{Name: "envoy (istio-proxy sidecar)", Version: version,
		Command: fmt.Sprintf("deployment %s/%s, container %s", b.ns, b.ctrl.Deployment(), cluster.SidecarContainerName)}, env
}

// Start brings the load generators up (first time only), then applies the
// setting to the Deployment and waits for its rollout, then checks that
// every pod's sidecar stats can be read. Any failure is the setting's: the
// sweep records its steps as failed and goes on; Close restores and cleans.
func (b *Backend) Start(ctx context.Context, s results.Setting) error {
	if b.closed {
		return errors.New("kube: backend closed")
	}
	if err := b.ensureLoadPods(ctx); err != nil {
		return err
	}
	b.setting, b.warnings = s, nil
	b.applied = true
	if err := b.ctrl.Apply(ctx, s); err != nil {
		return err
	}
	pods, err := b.targetPods(ctx)
	if err != nil {
		return err
	}
	stats, err := b.proxy.readEnvoyStats(ctx, pods, b.statsPort)
	if err != nil {
		return err
	}
	for _, pod := range pods {
		if c := stats[pod]; c.HasConcurrency && c.Concurrency != int64(s.Concurrency) {
			b.warnings = append(b.warnings, fmt.Sprintf("the sidecar of pod %s runs %d worker(s), the setting asks for %d: was the pod injected from the patched template?", pod, c.Concurrency, s.Concurrency))
		}
	}
	return nil
}

// ensureLoadPods creates the generators and waits until they are Ready; on
// failure it deletes them, so that the next setting tries afresh.
func (b *Backend) ensureLoadPods(ctx context.Context) error {
	if len(b.loadPods) > 0 {
		return nil
	}
	names, err := createLoadPods(ctx, b.client, b.ns, b.ctrl.Deployment(), b.run, b.cfg.LoadImage, b.cfg.LoadGenerators, b.cfg.LoadNodeSelector)
	if err == nil {
		b.logf("created load generator pod(s) %s; waiting for them to be ready", strings.Join(names, ", "))
		err = waitPodsReady(ctx, b.client, b.ns, b.runSelector(), len(names), b.cfg.LoadPodTimeout)
	}
	if err != nil {
		b.deleteLoadPods(ctx)
		return fmt.Errorf("load generators: %w", err)
	}
	sort.Strings(names)
	b.loadPods = names
	return nil
}

func (b *Backend) runSelector() string {
	return LoadPodSelector(b.ctrl.Deployment()) + "," + LabelRun + "=" + b.run
}

func (b *Backend) deleteLoadPods(parent context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), time.Minute)
	defer cancel()
	n, err := deletePods(ctx, b.client, b.ns, b.runSelector())
	if n > 0 {
		b.logf("deleted %d load generator pod(s)", n)
	}
	b.loadPods = nil
	return err
}

// targetPods are the Deployment's ready pods that are not terminating.
func (b *Backend) targetPods(ctx context.Context) ([]string, error) {
	pods, err := cluster.ListPods(ctx, b.client, b.workload, 0)
	if err != nil {
		return nil, err
	}
	var names []string
	for i := range pods {
		p := &pods[i]
		if cluster.PodReady(p) && p.Labels[LabelRole] != roleLoad {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("deployment %s/%s has no ready pod", b.ns, b.ctrl.Deployment())
	}
	sort.Strings(names)
	return names, nil
}

// Measure runs the warm-up, then the measured run on every generator at
// once, with the sidecars' counters read right before and after it and the
// containers' usage taken over the run.
func (b *Backend) Measure(ctx context.Context, spec driver.LoadSpec) (*driver.Measurement, error) {
	if !b.applied || len(b.loadPods) == 0 {
		return nil, errors.New("kube: Start a setting first")
	}
	pods, err := b.targetPods(ctx)
	if err != nil {
		return nil, err
	}
	n := float64(len(pods))
	run := spec.Options(b.cfg.Target)
	run.QPS = spec.RPS * n
	if spec.Warmup > 0 {
		warm := run
		warm.Duration = spec.Warmup
		stop := progress(spec, loadgen.PhaseWarmup, spec.Warmup)
		_, err := b.proxy.runGenerators(ctx, b.loadPods, warm)
		stop()
		if err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	before, err := b.proxy.readEnvoyStats(ctx, pods, b.statsPort)
	if err != nil {
		return nil, err
	}
	stopSampling := b.metrics.begin(ctx, pods)
	start := time.Now()
	stop := progress(spec, loadgen.PhaseMeasure, spec.Duration)
	parts, err := b.proxy.runGenerators(ctx, b.loadPods, run)
	stop()
	// The engine's schedule spans the run's duration, its last call due
	// one inter-arrival gap before the end: the run is that long, not a
	// gap shorter (30 s at 15 s scrapes is two scrape intervals).
	end := time.Now()
	if scheduled := start.Add(spec.Duration); end.Before(scheduled) {
		end = scheduled
	}
	stopSampling()
	if err != nil {
		return nil, err
	}
	after, err := b.proxy.readEnvoyStats(ctx, pods, b.statsPort)
	if err != nil {
		return nil, err
	}
	wall := time.Since(start)
	inbound, all, err := requestDeltas(before, after, pods)
	if err != nil {
		return nil, err
	}
	use, err := b.metrics.window(ctx, pods, start, end)
	if err != nil {
		return nil, err
	}
	// The warm-up ran before the counters were read: the measured run's
	// figures are its own, and the record says how long the warm-up was.
	run.Warmup = spec.Warmup
	res, err := mergeGenerators(run, b.loadPods, parts)
	if err != nil {
		return nil, err
	}
	// Per pod, like every other figure; the ratio the gates judged is unchanged.
	res.Summary.RequestedQPS /= n
	res.Summary.ActualQPS /= n
	return b.measurement(res, wall, use, pods, before[pods[0]].Source, inbound, all, after), nil
}

func (b *Backend) measurement(res *loadgen.Result, wall time.Duration, use *usage, pods []string, reqSource string,
	inbound, all int64, after map[string]envoyCounters,
) *driver.Measurement {
	n := int64(len(pods))
	m := &driver.Measurement{Load: res, Wall: wall, Sources: map[string]string{}}
	// Average cores over the metrics window times the run's wall time: the
	// same span as the request counters, so CPU per request is consistent.
	m.ProxyCPUSeconds = use.Proxy.Cores * wall.Seconds()
	m.HasThrottling = use.Proxy.HasThrottling
	m.Periods, m.ThrottledPeriods = int64(use.Proxy.Periods+0.5), int64(use.Proxy.ThrottledPeriods+0.5)
	m.MemoryWorkingSetBytes = use.Proxy.WorkingSetBytes
	m.ProxyRequests, m.InboundRequests = all/n, inbound/n
	m.Sources["cpu"] = fmt.Sprintf("%s; average over %v of the run, per pod over %d pod(s)", use.Source, use.Window, len(pods))
	m.Sources["memory"] = use.Source + "; the largest pod's working set"
	if use.Proxy.HasThrottling {
		m.Sources["throttling"] = "container_cpu_cfs_throttled_periods_total / container_cpu_cfs_periods_total, increase over the window"
	}
	m.Sources["requests"] = reqSource + ", summed over the pods' sidecars and divided by their number"
	m.Sources["inbound_requests"] = reqSource + " (inbound)"
	var mem, conc []string
	for _, p := range pods {
		c := after[p]
		mem = append(mem, fmt.Sprintf("%.1f MiB", float64(c.MemAllocated)/(1<<20)))
		if c.HasConcurrency {
			conc = append(conc, fmt.Sprint(c.Concurrency))
		}
	}
	m.Sources["envoy_server"] = fmt.Sprintf("server.memory_allocated %s, server.concurrency %s (per pod: %s)",
		strings.Join(mem, "/"), strings.Join(conc, "/"), strings.Join(pods, ", "))
	if use.App.Pods > 0 {
		m.Sources["app"] = fmt.Sprintf("container %s: %.3f cores, working set %.1f MiB per pod (%s)", b.app, use.App.Cores,
			float64(use.App.WorkingSetBytes)/(1<<20), use.Source)
	}
	m.Warnings = append(append(m.Warnings, b.warnings...), use.Warnings...)
	return m
}

// progress reports a remote run's elapsed time (the agents say nothing
// until the run ends) until stop is called.
func progress(spec driver.LoadSpec, phase loadgen.Phase, d time.Duration) (stop func()) {
	if spec.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				spec.Progress(loadgen.Progress{Phase: phase, Elapsed: time.Since(start), Duration: d, RequestedQPS: spec.RPS})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// Baseline is not available on a cluster: the sidecar intercepts every
// inbound connection of the pod, so there is no path around it to compare.
func (b *Backend) Baseline(context.Context, driver.LoadSpec) (*loadgen.Result, error) {
	return nil, errors.New("no baseline on a cluster: the sidecar intercepts every inbound connection (latency added not measured)")
}

// Stop leaves the setting applied: the next Start patches over it, Close
// restores the original.
func (b *Backend) Stop(context.Context) error { return nil }

// Close deletes the load generator pods and restores the Deployment's
// original annotations, each with a fresh context, so that it also works
// after an interrupt cancelled the sweep's.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	errs := []error{b.deleteLoadPods(context.Background())}
	if err := b.ctrl.RestoreDetached(context.Background(), 0); err != nil {
		errs = append(errs, fmt.Errorf("restoring deployment %s/%s: %w (retry with: proxysizer restore --journal %s)", b.ns, b.ctrl.Deployment(), err, b.ctrl.JournalPath()))
	}
	return errors.Join(errs...)
}
