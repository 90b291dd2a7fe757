package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	fortiolog "fortio.org/log"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/sweep"
)

func init() { register(newSweepCmd) }

// sweepFlags are the sweep command's: the sweep's request (sweep_options.go),
// each backend's own flags (sweep_local.go, sweep_kube.go), and how to run.
type sweepFlags struct {
	req        sweep.Request
	fields     fieldFlags
	local      sweepLocalFlags
	kube       sweepKubeFlags
	noProgress bool
	dryRun     bool
}

// sweepBackend is one value of --backend: the flags only it reads, their
// check once it is chosen, and how it opens.
type sweepBackend interface {
	// ownFlags are the flags only this backend reads, each with the
	// problem of giving it to another backend.
	ownFlags() []flagUse
	check(o sweep.Options) error
	// open starts the backend and says on log what it runs.
	open(ctx context.Context, log io.Writer, o sweep.Options) (driver.Backend, error)
}

// dryRunner is a backend that can show what a sweep would change.
type dryRunner interface {
	dryRun(ctx context.Context, out io.Writer, o sweep.Options) error
}

// flagUse is a flag and why it means nothing elsewhere.
type flagUse struct{ flag, why string }

func newSweepCmd() *cobra.Command {
	f := &sweepFlags{req: sweep.DefaultRequest()}
	c := &cobra.Command{
		Use:   "sweep",
		Short: "Load-test a proxy at each concurrency x CPU-limit setting and measure what it costs",
		Long:  sweepLong(),
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
	f.fields = newFieldFlags(fl)
	f.fields.bind(sweep.FieldBackend, &f.req.Backend, "backend", "where the proxy runs: local (a lab on this machine) or kubernetes (a live Deployment's sidecar)")
	bindSweepFlags(f.fields, &f.req)
	f.local.bind(f.fields)
	fl.BoolVar(&f.noProgress, "no-progress", false, "print no progress")
	// The kubernetes backend's flags are the ones registered here, so the
	// list of what the local backend rejects cannot fall behind.
	kube := pflag.NewFlagSet("kubernetes", pflag.ContinueOnError)
	kube.BoolVar(&f.dryRun, "dry-run", false, "kubernetes: print the plan and each setting's patch, and touch nothing")
	addSweepKubeFlags(kube, &f.kube)
	kube.VisitAll(func(flag *pflag.Flag) { f.kube.own = append(f.kube.own, flag.Name) })
	fl.AddFlagSet(kube)
	return c
}

func runSweep(c *cobra.Command, f *sweepFlags) (err error) {
	f.req.Given, f.req.Names = f.fields.given(), f.fields.names(nil)
	o, err := f.req.Options(time.Now())
	if err != nil {
		return err
	}
	o.Tool = version
	backend, err := f.chooseBackend(c, o)
	if err != nil {
		return err
	}
	fortiolog.SetLogLevelQuiet(fortiolog.Critical)
	ctx, stop, received := signalContext(c.Context())
	defer stop()
	if f.dryRun { // a flag of the backends that can dry-run only
		return backend.(dryRunner).dryRun(ctx, c.OutOrStdout(), o)
	}
	if !f.noProgress {
		o.Printer = loadgen.NewProgressPrinter(c.ErrOrStderr(), isTerminal(c.ErrOrStderr()))
		defer o.Printer.Done()
	}
	b, err := backend.open(ctx, c.ErrOrStderr(), o)
	if err != nil {
		return err
	}
	// Close stops the proxy and restores what the backend changed: a
	// failure there is the command's, whatever the sweep did.
	defer func() { err = errors.Join(err, b.Close()) }()
	rec, err := sweep.Run(ctx, b, o)
	if o.Printer != nil {
		o.Printer.Done()
	}
	switch {
	case rec == nil:
		return err
	case ctx.Err() != nil:
		return interruptedError{fmt.Sprintf("interrupted: %d of %d steps finished and saved in %s; continue with --resume --out %s",
			countDone(rec), len(rec.Steps), o.OutDir, o.OutDir), received()}
	case err != nil:
		return err
	}
	return finishSweep(c.OutOrStdout(), rec, o.OutDir, *f)
}

// chooseBackend picks --backend, the one place that tells the backends
// apart: it rejects the flags of the others and checks its own.
func (f *sweepFlags) chooseBackend(c *cobra.Command, o sweep.Options) (sweepBackend, error) {
	backends := map[string]sweepBackend{"local": &f.local, "kubernetes": &f.kube}
	chosen, ok := backends[o.Backend]
	if !ok {
		return nil, flagError("backend", "expected local or kubernetes, got %q", o.Backend)
	}
	for name, other := range backends {
		if name == o.Backend {
			continue
		}
		for _, u := range other.ownFlags() {
			if c.Flags().Changed(u.flag) {
				return nil, flagError(u.flag, "%s", u.why)
			}
		}
	}
	return chosen, chosen.check(o)
}
