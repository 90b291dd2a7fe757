package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/local"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sweep"
)

// sweepLocalFlags are the flags of the local backend; check turns them into
// the lab's configuration.
type sweepLocalFlags struct {
	proxy, proxyCmd  string
	noCgroups, noPin bool
	cfg              local.Config
	set              *pflag.FlagSet
}

func (l *sweepLocalFlags) bind(f fieldFlags) {
	l.set = f.set
	names := local.ProxyNames()
	f.bind(local.FieldProxy, &l.proxy, "proxy", fmt.Sprintf("proxy under test: %s (%s), %s", local.AutoProxy, strings.Join(names, ", else "), local.OrList(names)))
	f.set.StringVar(&l.proxyCmd, "proxy-cmd", "", "run the proxy with this command line instead; {config} and {concurrency} are expanded")
	f.bind(local.FieldNoCgroups, &l.noCgroups, "no-cpu-limit", "run without cgroups (no CPU limits; CPU and memory from /proc), e.g. when not root")
	f.bind(local.FieldNoPin, &l.noPin, "no-pin", "do not place the proxy and the load generator on separate CPUs")
}

func (l *sweepLocalFlags) ownFlags() []flagUse {
	const why = "only used with the local backend: "
	return []flagUse{
		{"proxy", why + "the sidecar is Istio's Envoy"}, {"proxy-cmd", why + "the sidecar is Istio's Envoy"},
		{"no-cpu-limit", why + "Kubernetes enforces the limits"}, {"no-pin", why + "the pods are placed by the scheduler"},
		{"outbound-per-request", why + "the app's own calls are measured from Envoy's counters"},
	}
}

func (l *sweepLocalFlags) check(o sweep.Options) error {
	if err := l.resume(o.Resumed); err != nil {
		return err
	}
	proxy, err := local.ChooseProxy(l.proxy, o.Names)
	if err != nil {
		return err
	}
	l.cfg = local.Config{Proxy: proxy, CommandTemplate: l.proxyCmd, OutboundPerRequest: o.OutboundPerRequest,
		NoCgroups: l.noCgroups, Pin: !l.noPin, WorkDir: filepath.Join(o.OutDir, "lab"), Names: o.Names}
	return l.cfg.Check(o.Settings)
}

// resume takes what a resumed sweep recorded of the lab: its proxy, and
// whether it ran without cgroups, so that the steps still to run measure
// what the finished ones did.
func (l *sweepLocalFlags) resume(rec *results.Sweep) error {
	if rec == nil {
		return nil
	}
	known := slices.Contains(local.ProxyNames(), rec.Proxy.Name)
	switch {
	case !l.set.Changed("proxy") && known:
		l.proxy = rec.Proxy.Name
	case l.set.Changed("proxy") && known && l.proxy != rec.Proxy.Name:
		return flagError("proxy", "the sweep being resumed measured %s: leave --proxy out, or choose another --out", rec.Proxy.Name)
	}
	if !l.set.Changed("no-cpu-limit") && !rec.Environment.CPULimitsEnforced {
		l.noCgroups = true
	}
	return nil
}

func (l *sweepLocalFlags) open(ctx context.Context, log io.Writer, o sweep.Options) (driver.Backend, error) {
	b, err := local.New(ctx, l.cfg)
	if errors.Is(err, local.ErrNoCgroups) {
		return nil, badInput("%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("local lab: %w", err)
	}
	proxy, env := b.Describe()
	fmt.Fprintf(log, "proxysizer sweep: %s (%s) on %d CPUs, cgroups %s, %s; results in %s\n",
		proxy.Name, proxy.Version, env.Cores, env.CgroupVersion, env.Placement.Note, o.OutDir)
	return b, nil
}
