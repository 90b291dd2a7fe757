package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	fortiolog "fortio.org/log"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/driver/local"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/report"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
	"github.com/proxysizer/proxysizer/sweep"
)

func init() { register(newSweepCmd) }

type sweepFlags struct {
	backend, proxy, proxyCmd string
	concurrency              []int
	cpuLimits                []string
	rates                    []float64
	repeats                  int
	findMax                  bool
	sloP99                   time.Duration
	duration, warmup         time.Duration
	connections              int
	protocol                 string
	payload                  int
	outbound                 int
	out                      string
	resume                   bool
	noCPULimit, noPin        bool
	searchMaxSteps           int
	searchMaxTime            time.Duration
	searchStart              float64
	noProgress               bool
	dryRun                   bool
	kube                     sweepKubeFlags
}

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	c := &cobra.Command{
		Use:   "sweep",
		Short: "Load-test a proxy at each concurrency x CPU-limit setting and measure what it costs",
		Long: `sweep runs a real proxy at every Envoy concurrency x CPU-limit setting and
measures, at each rate, its CPU (from its cgroup), CFS throttling, memory
working set, the requests it carried per inbound request (from its own
counters) and the latency it adds over a baseline run without it.

The local backend (the default) needs no cluster: the proxy (Envoy when it is
on PATH, else haproxy, else nginx) runs on this machine in a cgroup whose CFS
quota enforces the CPU limit as Kubernetes does, in front of a fortio app that
fans each request out to --outbound-per-request calls back through the proxy.
Results go to --out after every step; an interrupted sweep continues with
--resume.

The kubernetes backend (--backend kubernetes -n NS --deployment NAME --target
URL) sizes a live Deployment's Istio sidecar: for each setting it patches the
pod template's sidecar annotations and waits for the rollout; fortio pods in
the namespace (--load-generators) load --target from inside the mesh; Envoy's
counters give the requests through each sidecar, Prometheus
(--prometheus-url) or metrics.k8s.io the CPU, throttling and memory, per pod.
The original annotations are restored and the load pods deleted at the end,
on error and on Ctrl-C (after kill -9: proxysizer restore).`,
		Example: `  # 2 concurrencies x 2 CPU limits x 3 rates, haproxy, app making 2 calls per request
  proxysizer sweep --proxy haproxy --concurrency 1,2 --cpu-limit 500m,1 \
    --rates 200,400,800 --outbound-per-request 2 --duration 10s --out out/shop

  # search each setting's maximum under a 5 ms p99, then measure at fractions of it
  proxysizer sweep --find-max --slo-p99 5ms --rates 0.25,0.5,0.75 --out out/max

  # a live Deployment: 2 concurrencies, rates per pod, 60 s steps for Prometheus' 15 s scrapes
  proxysizer sweep --backend kubernetes -n shop --deployment web --target http://web.shop.svc:8080/ \
    --concurrency 1,2 --cpu-limit 1,2 --rates 100,200,400 --duration 60s --load-generators 2 \
    --prometheus-url http://prometheus.monitoring.svc:9090 --prometheus-token-file /var/run/secrets/prom-token`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSweep(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.backend, "backend", "local", "where the proxy runs: local (a lab on this machine) or kubernetes (a live Deployment's sidecar)")
	fl.StringVar(&f.proxy, "proxy", "auto", "proxy under test: auto (envoy, else haproxy, else nginx), envoy, haproxy or nginx")
	fl.StringVar(&f.proxyCmd, "proxy-cmd", "", "run the proxy with this command line instead; {config} and {concurrency} are expanded")
	fl.IntSliceVar(&f.concurrency, "concurrency", []int{1, 2}, "proxy worker counts to sweep")
	fl.StringSliceVar(&f.cpuLimits, "cpu-limit", []string{"500m", "1"}, "proxy CPU limits to sweep (quantities, or none)")
	fl.Float64SliceVar(&f.rates, "rates", []float64{200, 400, 800}, "inbound RPS per step; with --find-max, values up to 1 are fractions of each setting's maximum")
	fl.IntVar(&f.repeats, "repeats", 1, "measure each rate this many times, interleaved (repeats average out step-to-step noise in the fit)")
	fl.BoolVar(&f.findMax, "find-max", false, "search each setting's maximum throughput first")
	fl.DurationVar(&f.sloP99, "slo-p99", 0, "with --find-max: the p99 latency (from intended send time) a rate must keep")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "measured time per step")
	fl.DurationVar(&f.warmup, "warmup", 2*time.Second, "warm-up per step, left out of the figures")
	fl.IntVar(&f.connections, "connections", 8, "load generator connections")
	fl.StringVar(&f.protocol, "protocol", "http1", "http1 or h2c")
	fl.IntVar(&f.payload, "payload-size", 0, "request body bytes (POST); 0 sends GETs")
	fl.IntVar(&f.outbound, "outbound-per-request", 0, "calls the app makes back out through the proxy per inbound request (k)")
	fl.StringVar(&f.out, "out", "", "results directory (default out/sweep-TIMESTAMP)")
	fl.BoolVar(&f.resume, "resume", false, "continue the interrupted sweep in --out")
	fl.BoolVar(&f.noCPULimit, "no-cpu-limit", false, "run without cgroups (no CPU limits; CPU and memory from /proc), e.g. when not root")
	fl.BoolVar(&f.noPin, "no-pin", false, "do not place the proxy and the load generator on separate CPUs")
	fl.IntVar(&f.searchMaxSteps, "search-max-steps", 12, "with --find-max: at most this many steps per search")
	fl.DurationVar(&f.searchMaxTime, "search-max-time", 5*time.Minute, "with --find-max: at most this long per search")
	fl.Float64Var(&f.searchStart, "search-start-rps", 100, "with --find-max: the search's first rate")
	fl.BoolVar(&f.noProgress, "no-progress", false, "print no progress")
	fl.BoolVar(&f.dryRun, "dry-run", false, "kubernetes: print the plan and each setting's patch, and touch nothing")
	addSweepKubeFlags(fl, &f.kube)
	return c
}

// toOptions validates the flags; every error names its flag.
func (f sweepFlags) toOptions(c *cobra.Command) (sweep.Options, local.Config, error) {
	var o sweep.Options
	var lc local.Config
	set := c.Flags().Changed
	if f.backend != "local" && f.backend != "kubernetes" {
		return o, lc, flagError("backend", "expected local or kubernetes, got %q", f.backend)
	}
	if err := f.checkBackendFlags(set); err != nil {
		return o, lc, err
	}
	limits, err := f.limits()
	if err != nil {
		return o, lc, err
	}
	for _, n := range f.concurrency {
		if n < 1 || n > 64 {
			return o, lc, flagError("concurrency", "expected worker counts within 1..64, got %d", n)
		}
	}
	if err := f.rateOptions(set, &o); err != nil {
		return o, lc, err
	}
	if err := f.loadOptions(&o); err != nil {
		return o, lc, err
	}
	if f.outbound < 0 || f.outbound > 32 {
		return o, lc, flagError("outbound-per-request", "expected 0..32 calls, got %d", f.outbound)
	}
	if f.resume && !set("out") {
		return o, lc, flagError("resume", "needs --out: the directory of the sweep to continue")
	}
	o.Settings = sweep.Grid(f.concurrency, limits)
	o.OutboundPerRequest, o.Resume, o.Tool, o.Backend = f.outbound, f.resume, version, f.backend
	o.OutDir = f.out
	if o.OutDir == "" {
		o.OutDir = filepath.Join("out", "sweep-"+time.Now().Format("20060102-150405"))
	}
	if f.backend == "kubernetes" {
		return o, lc, nil
	}
	lc, err = f.localConfig(o.OutDir)
	return o, lc, err
}

func (f sweepFlags) limits() ([]int64, error) {
	if len(f.cpuLimits) == 0 {
		return nil, flagError("cpu-limit", "expected at least one limit")
	}
	var out []int64
	for _, s := range f.cpuLimits {
		if s == "none" {
			out = append(out, 0)
			continue
		}
		m, err := quantity.ParseMillicores(s)
		if err != nil {
			return nil, flagError("cpu-limit", "expected CPU quantities > 0 such as 500m or 2, or none, got %q", s)
		}
		if f.noCPULimit {
			return nil, flagError("cpu-limit", "%s cannot be enforced with --no-cpu-limit: use --cpu-limit none", s)
		}
		out = append(out, m)
	}
	return out, nil
}

func (f sweepFlags) rateOptions(set func(string) bool, o *sweep.Options) error {
	if len(f.rates) == 0 {
		return flagError("rates", "expected at least one rate")
	}
	fractions := 0
	for _, r := range f.rates {
		if !positive(r) {
			return flagError("rates", "expected rates > 0, got %v", r)
		}
		if r <= 1 {
			fractions++
		}
	}
	switch {
	case fractions > 0 && !f.findMax:
		return flagError("rates", "values up to 1 are fractions of a setting's maximum and need --find-max, got %v", f.rates)
	case fractions > 0 && fractions < len(f.rates):
		return flagError("rates", "give either fractions (0 < r <= 1) or rates in RPS, not both, got %v", f.rates)
	case set("slo-p99") && !f.findMax:
		return flagError("slo-p99", "only used with --find-max")
	case f.sloP99 < 0:
		return flagError("slo-p99", "expected a positive duration, got %v", f.sloP99)
	case f.searchMaxSteps < 1:
		return flagError("search-max-steps", "expected at least 1, got %d", f.searchMaxSteps)
	case f.searchMaxTime <= 0:
		return flagError("search-max-time", "expected a positive duration, got %v", f.searchMaxTime)
	case !positive(f.searchStart):
		return flagError("search-start-rps", "expected a rate > 0, got %v", f.searchStart)
	}
	if f.repeats < 1 || f.repeats > 10 {
		return flagError("repeats", "expected 1..10, got %d", f.repeats)
	}
	o.Rates, o.Fractions, o.FindMax, o.Repeats = f.rates, fractions > 0, f.findMax, f.repeats
	o.Search = loadgen.SearchOptions{SLO: loadgen.SLO{P99: f.sloP99}, StartQPS: f.searchStart,
		MaxSteps: f.searchMaxSteps, MaxTime: f.searchMaxTime}
	return nil
}

func (f sweepFlags) loadOptions(o *sweep.Options) error {
	proto, err := loadgen.ParseProtocol(f.protocol)
	if err != nil {
		return flagError("protocol", "%v", err)
	}
	if proto == loadgen.GRPC {
		return flagError("protocol", "the local lab's app speaks HTTP: expected http1 or h2c, got grpc")
	}
	switch {
	case f.duration <= 0:
		return flagError("duration", "expected a positive duration, got %v", f.duration)
	case f.warmup < 0:
		return flagError("warmup", "expected zero or a positive duration, got %v", f.warmup)
	case f.connections < 1:
		return flagError("connections", "expected at least 1, got %d", f.connections)
	case f.payload < 0:
		return flagError("payload-size", "expected zero or more bytes, got %d", f.payload)
	}
	o.Load = driver.LoadSpec{Duration: f.duration, Warmup: f.warmup, Connections: f.connections, Protocol: proto, PayloadSize: f.payload}
	return nil
}

func (f sweepFlags) localConfig(outDir string) (local.Config, error) {
	lc := local.Config{OutboundPerRequest: f.outbound, NoCgroups: f.noCPULimit, Pin: !f.noPin,
		CommandTemplate: f.proxyCmd, WorkDir: filepath.Join(outDir, "lab")}
	var err error
	if f.proxy == "auto" {
		lc.Proxy, _, err = local.DetectProxy()
		if err != nil {
			return lc, flagError("proxy", "%v", err)
		}
		return lc, nil
	}
	if lc.Proxy, err = local.ProxyByName(f.proxy); err != nil {
		return lc, flagError("proxy", "%v", err)
	}
	return lc, nil
}

func runSweep(c *cobra.Command, f sweepFlags) (err error) {
	o, lc, err := f.toOptions(c)
	if err != nil {
		return err
	}
	fortiolog.SetLogLevelQuiet(fortiolog.Critical)
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stderr := c.ErrOrStderr()
	if f.dryRun {
		return dryRunKube(ctx, c.OutOrStdout(), f, o)
	}
	if !f.noProgress {
		o.Printer = loadgen.NewProgressPrinter(stderr, isTerminal(stderr))
		defer o.Printer.Done()
	}
	var backend driver.Backend
	if f.backend == "kubernetes" {
		kb, err := kube.NewBackend(ctx, f.kube.backendConfig(stderr))
		if err != nil {
			return fmt.Errorf("kubernetes backend: %w", err)
		}
		// Close deletes the load pods and restores the Deployment: a
		// failure there is the command's, whatever the sweep did.
		defer func() {
			if cerr := kb.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}()
		backend = kb
		_, env := kb.Describe()
		fmt.Fprintf(stderr, "proxysizer sweep: deployment %s/%s on Kubernetes %s, %d load generator(s), metrics from %s; results in %s\n",
			env.Cluster.Namespace, env.Cluster.Deployment, env.Cluster.ServerVersion, f.kube.loadGenerators, env.Cluster.MetricsSource, o.OutDir)
	} else {
		lb, err := local.New(ctx, lc)
		if errors.Is(err, local.ErrNoCgroups) {
			return badInput("%v", err)
		}
		if err != nil {
			return fmt.Errorf("local lab: %w", err)
		}
		defer lb.Close()
		backend = lb
		proxy, env := lb.Describe()
		fmt.Fprintf(stderr, "proxysizer sweep: %s (%s) on %d CPUs, cgroups %s, %s; results in %s\n",
			proxy.Name, proxy.Version, env.Cores, env.CgroupVersion, env.Placement.Note, o.OutDir)
	}
	rec, err := sweep.Run(ctx, backend, o)
	if o.Printer != nil {
		o.Printer.Done()
	}
	if errors.Is(err, sweep.ErrExists) {
		return badInput("%v", err)
	}
	if rec == nil {
		return err
	}
	if ctx.Err() != nil {
		return interruptedError{fmt.Sprintf("interrupted: %d of %d steps finished and saved in %s; continue with --resume --out %s (and the same flags)",
			countDone(rec), len(rec.Steps), o.OutDir, o.OutDir)}
	}
	if err != nil {
		return err
	}
	return finishSweep(c.OutOrStdout(), rec, o.OutDir, f)
}

// finishSweep prints the steps, then fits them and prints the
// recommendation. A sweep whose steps cannot be fitted still succeeded: it
// says why there is no recommendation.
func finishSweep(out io.Writer, rec *results.Sweep, dir string, f sweepFlags) error {
	if err := writeSweepSummary(out, rec, dir); err != nil {
		return err
	}
	res, err := fitSweep(rec, dir, fitFlags{headroom: sizing.DefaultHeadroom, sloP99: f.sloP99})
	var in report.Input
	if err != nil {
		fmt.Fprintf(out, "\nNo recommendation: %v\n", err)
		in = report.Input{Sweep: rec, Source: dir, NotFitted: oneLine(err.Error())}
	} else {
		fmt.Fprintf(out, "\nMeasured cost over all unthrottled steps: %.4f cores per 1000 sidecar RPS (R² %.3f) + %.4f idle\n%s\n",
			res.Report.Overall.CoresPerKRPS, res.Report.Overall.R2, res.Report.Overall.IdleCores, looSummary(res.Report))
		writeRecommendation(out, res)
		fmt.Fprintf(out, "Full fit: proxysizer fit %s\n", dir)
		in = reportInput(rec, dir, res)
	}
	paths, err := report.Write(dir, in)
	if err != nil {
		fmt.Fprintf(out, "\nReport not written: %v\n", err)
		return nil
	}
	fmt.Fprintln(out)
	printReportPaths(out, paths, in)
	if countOK(rec) == 0 {
		return errors.New("no step of the sweep finished valid: see each step's reason above or in sweep.json")
	}
	return nil
}

func countOK(rec *results.Sweep) int {
	n := 0
	for _, s := range rec.Steps {
		if s.Status == results.StatusOK {
			n++
		}
	}
	return n
}

// looSummary gives each setting's leave-one-rate-out error: the CPU model
// is per setting, so that is where its predictions are judged.
func looSummary(r *fit.Report) string {
	var parts []string
	for _, s := range r.Settings {
		if s.CPU == nil || len(s.CPU.HeldOut) == 0 {
			continue
		}
		key := s.Key()
		parts = append(parts, fmt.Sprintf("%s %.1f%%", key, s.CPU.MaxHeldOutErr*100))
	}
	if len(parts) == 0 {
		return "too few rates for leave-one-rate-out"
	}
	return "leave-one-rate-out max error per setting: " + strings.Join(parts, ", ")
}

func countDone(rec *results.Sweep) int {
	n := 0
	for _, s := range rec.Steps {
		if s.Done() {
			n++
		}
	}
	return n
}

// dryRunKube reads the Deployment (and only reads) and prints what a
// kubernetes sweep would do: each setting's patch, the restoring patch, the
// load pods and the steps. It creates nothing, not even the results directory.
func dryRunKube(ctx context.Context, out io.Writer, f sweepFlags, o sweep.Options) error {
	ctrl, err := kube.New(f.kube.backendConfig(io.Discard).Config)
	if err != nil {
		return fmt.Errorf("kubernetes backend: %w", err)
	}
	plan, err := ctrl.Plan(ctx, o.Settings)
	if err != nil {
		return err
	}
	if err := plan.Write(out); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "load: %d fortio pod(s) (%s) loading %s at %v inbound RPS per pod, %d step(s) of %v after %v warm-up, per setting; results to %s\n",
		f.kube.loadGenerators, f.kube.loadImage, f.kube.target, o.Rates, len(o.Rates)*max(1, o.Repeats), o.Load.Duration, o.Load.Warmup, o.OutDir)
	return err
}

// sweepKubeFlags are the flags of --backend kubernetes.
type sweepKubeFlags struct {
	kube.ClientFlags
	deployment, target, appContainer string
	journal                          string
	rolloutTimeout                   time.Duration
	loadGenerators                   int
	loadImage                        string
	loadNodeSelector                 []string
	loadPodTimeout                   time.Duration
	envoyStatsPort                   int
	promURL, promTokenFile           string
	promScrapeInterval               time.Duration
}

func addSweepKubeFlags(fl *pflag.FlagSet, k *sweepKubeFlags) {
	fl.StringVar(&k.Kubeconfig, "kubeconfig", "", "kubernetes: path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)")
	fl.StringVar(&k.Context, "context", "", "kubernetes: the kubeconfig context to use")
	fl.StringVarP(&k.Namespace, "namespace", "n", "", "kubernetes: the Deployment's namespace (default: the context's, else default)")
	fl.StringVar(&k.deployment, "deployment", "", "kubernetes: the Deployment whose istio-proxy sidecar is sized (required)")
	fl.StringVar(&k.target, "target", "", "kubernetes: the URL the load generators load from inside the cluster, e.g. http://web.shop.svc:8080/ (required)")
	fl.StringVar(&k.appContainer, "app-container", "", "kubernetes: the app's container (default: the first that is not istio-proxy)")
	fl.StringVar(&k.journal, "journal", "", "kubernetes: the journal of the original annotations (default ~/.local/state/proxysizer/kube-NS-NAME.journal.json)")
	fl.DurationVar(&k.rolloutTimeout, "rollout-timeout", kube.DefaultRolloutTimeout, "kubernetes: how long each rollout may take")
	fl.IntVar(&k.loadGenerators, "load-generators", 1, "kubernetes: fortio pods sharing the load")
	fl.StringVar(&k.loadImage, "load-image", kube.DefaultLoadImage, "kubernetes: the load generators' image (runs `fortio server`)")
	fl.StringSliceVar(&k.loadNodeSelector, "load-node-selector", nil, "kubernetes: key=value node labels for the load generators (e.g. away from the target's nodes)")
	fl.DurationVar(&k.loadPodTimeout, "load-pod-timeout", kube.DefaultLoadPodTimeout, "kubernetes: how long the load generators may take to be ready")
	fl.IntVar(&k.envoyStatsPort, "envoy-stats-port", kube.DefaultEnvoyStatsPort, "kubernetes: the sidecar's port serving /stats/prometheus (Istio: 15090; the admin port 15000 listens on localhost only)")
	fl.StringVar(&k.promURL, "prometheus-url", "", "kubernetes: Prometheus holding the kubelet's cAdvisor series (default: metrics.k8s.io, coarser)")
	fl.StringVar(&k.promTokenFile, "prometheus-token-file", "", "kubernetes: file holding a bearer token for Prometheus (never printed nor saved)")
	fl.DurationVar(&k.promScrapeInterval, "prometheus-scrape-interval", 0, "kubernetes: the cAdvisor scrape interval (default: read from Prometheus' configuration, else 15s)")
}

// checkBackendFlags rejects flags of the other backend, and checks the
// kubernetes backend's.
func (f sweepFlags) checkBackendFlags(set func(string) bool) error {
	kubeOnly := []string{"kubeconfig", "context", "namespace", "deployment", "target", "app-container", "journal", "rollout-timeout",
		"load-generators", "load-image", "load-node-selector", "load-pod-timeout", "envoy-stats-port",
		"prometheus-url", "prometheus-token-file", "prometheus-scrape-interval", "dry-run"}
	if f.backend == "local" {
		for _, name := range kubeOnly {
			if set(name) {
				return flagError(name, "only used with --backend kubernetes")
			}
		}
		return nil
	}
	for name, why := range map[string]string{
		"proxy": "the sidecar is Istio's Envoy", "proxy-cmd": "the sidecar is Istio's Envoy",
		"no-cpu-limit": "Kubernetes enforces the limits", "no-pin": "the pods are placed by the scheduler",
		"outbound-per-request": "the app's own calls are measured from Envoy's counters",
	} {
		if set(name) {
			return flagError(name, "only used with the local backend: %s", why)
		}
	}
	k := f.kube
	switch {
	case k.deployment == "":
		return flagError("deployment", "required with --backend kubernetes: the Deployment to size")
	case len(validation.IsDNS1123Subdomain(k.deployment)) > 0:
		return flagError("deployment", "expected a Deployment name, got %q", k.deployment)
	case k.Namespace != "" && len(validation.IsDNS1123Label(k.Namespace)) > 0:
		return flagError("namespace", "expected a namespace name (lower-case letters, digits, '-'), got %q", k.Namespace)
	case k.rolloutTimeout <= 0:
		return flagError("rollout-timeout", "expected a duration > 0, got %v", k.rolloutTimeout)
	case k.loadGenerators < 1 || k.loadGenerators > 100:
		return flagError("load-generators", "expected 1..100 pods, got %d", k.loadGenerators)
	case k.loadImage == "":
		return flagError("load-image", "expected an image")
	case k.loadPodTimeout <= 0:
		return flagError("load-pod-timeout", "expected a duration > 0, got %v", k.loadPodTimeout)
	case k.envoyStatsPort < 1 || k.envoyStatsPort > 65535:
		return flagError("envoy-stats-port", "expected a port, got %d", k.envoyStatsPort)
	case k.promScrapeInterval < 0:
		return flagError("prometheus-scrape-interval", "expected a duration > 0, got %v", k.promScrapeInterval)
	case k.promTokenFile != "" && k.promURL == "":
		return flagError("prometheus-token-file", "needs --prometheus-url")
	case k.promScrapeInterval > 0 && k.promURL == "":
		return flagError("prometheus-scrape-interval", "needs --prometheus-url")
	}
	if u, err := url.Parse(k.target); k.target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return flagError("target", "expected the http(s) URL the load generators send to from inside the cluster, e.g. http://web.shop.svc:8080/, got %q", k.target)
	}
	if k.promURL != "" {
		if u, err := url.Parse(k.promURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return flagError("prometheus-url", "expected an http(s) URL, got %q", k.promURL)
		}
	}
	if k.promTokenFile != "" {
		if st, err := os.Stat(k.promTokenFile); err != nil || st.IsDir() {
			return flagError("prometheus-token-file", "expected a readable file, got %q", k.promTokenFile)
		}
	}
	if k.Kubeconfig != "" {
		if st, err := os.Stat(k.Kubeconfig); err != nil || st.IsDir() {
			return flagError("kubeconfig", "expected a readable kubeconfig file, got %q", k.Kubeconfig)
		}
	}
	if _, err := k.nodeSelector(); err != nil {
		return err
	}
	if f.findMax && f.duration < 2*time.Second {
		return flagError("duration", "expected at least 2s per step on a cluster, got %v", f.duration)
	}
	return nil
}

func (k sweepKubeFlags) nodeSelector() (map[string]string, error) {
	if len(k.loadNodeSelector) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range k.loadNodeSelector {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || len(validation.IsQualifiedName(key)) > 0 || len(validation.IsValidLabelValue(value)) > 0 {
			return nil, flagError("load-node-selector", "expected key=value node labels, got %q", kv)
		}
		out[key] = value
	}
	return out, nil
}

func (k sweepKubeFlags) backendConfig(log io.Writer) kube.BackendConfig {
	sel, _ := k.nodeSelector()
	return kube.BackendConfig{
		Config: kube.Config{ClientFlags: k.ClientFlags, Deployment: k.deployment, JournalPath: k.journal,
			RolloutTimeout: k.rolloutTimeout, Log: log},
		Target: k.target, AppContainer: k.appContainer, LoadGenerators: k.loadGenerators, LoadImage: k.loadImage,
		LoadNodeSelector: sel, LoadPodTimeout: k.loadPodTimeout, EnvoyStatsPort: k.envoyStatsPort,
		Prometheus: kube.PrometheusConfig{URL: k.promURL, TokenFile: k.promTokenFile, ScrapeInterval: k.promScrapeInterval},
	}
}
