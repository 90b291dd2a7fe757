package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/local"
	"github.com/proxysizer/proxysizer/sweep"
)

// sweepLocalFlags are the flags of the local backend, bound to the lab's
// request; check turns them into its configuration.
type sweepLocalFlags struct {
	req    local.Request
	fields fieldFlags
	cfg    local.Config
}

func (l *sweepLocalFlags) bind(f fieldFlags) {
	l.req, l.fields = local.DefaultRequest(), f
	names := local.ProxyNames()
	f.bind(local.FieldProxy, &l.req.Proxy, "proxy", fmt.Sprintf("proxy under test: %s (%s), %s", local.AutoProxy, strings.Join(names, ", else "), local.OrList(names)))
	f.bind(local.FieldProxyCommand, &l.req.ProxyCommand, "proxy-cmd", "run the proxy with this command line instead; {config} and {concurrency} are expanded")
	f.bind(local.FieldNoCgroups, &l.req.NoCgroups, "no-cpu-limit", "run without cgroups (no CPU limits; CPU and memory from /proc), e.g. when not root")
	f.bind(local.FieldNoPin, &l.req.NoPin, "no-pin", "do not place the proxy and the load generator on separate CPUs")
}

func (l *sweepLocalFlags) ownFlags() []flagUse {
	const why = "only used with the local backend: "
	return []flagUse{
		{"proxy", why + "the sidecar is Istio's Envoy"}, {"proxy-cmd", why + "the sidecar is Istio's Envoy"},
		{"no-cpu-limit", why + "Kubernetes enforces the limits"}, {"no-pin", why + "the pods are placed by the scheduler"},
		{"outbound-per-request", why + "the app's own calls are measured from Envoy's counters"},
	}
}

func (l *sweepLocalFlags) check(o sweep.Options) (err error) {
	l.req.Given, l.req.Names = l.fields.given(), o.Names
	l.cfg, err = l.req.Config(o)
	return err
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
