package cmd

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	fortiolog "fortio.org/log"
	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/driver/local"
	"github.com/proxysizer/proxysizer/loadgen"
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
