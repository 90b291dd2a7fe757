package local

import (
	"path/filepath"
	"slices"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sweep"
)

// FieldProxyCommand is the command line that replaces the proxy's own.
const FieldProxyCommand input.Field = "proxy command"

// Request is the local lab as a person asks for it: flat values a caller
// binds its inputs to; Config checks them.
type Request struct {
	// Proxy is one of ProxyNames(), or AutoProxy.
	Proxy string
	// ProxyCommand, NoCgroups: as Config's CommandTemplate and NoCgroups.
	ProxyCommand string
	NoCgroups    bool
	// NoPin leaves the proxy and the load generator on the same CPUs.
	NoPin bool
	// Given says which inputs the person set (a resumed sweep fills in the
	// others); Names shows them in the caller's words.
	Given map[input.Field]bool
	Names input.Names
}

// DefaultRequest is a request's defaults: the proxy detected on PATH.
func DefaultRequest() Request { return Request{Proxy: AutoProxy} }

// Config checks r into the lab's configuration for the sweep of o; a
// problem is an *input.Error naming the field.
func (r Request) Config(o sweep.Options) (Config, error) {
	if err := r.resume(o.Resumed); err != nil {
		return Config{}, err
	}
	proxy, err := ChooseProxy(r.Proxy, r.Names)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Proxy: proxy, CommandTemplate: r.ProxyCommand, OutboundPerRequest: o.OutboundPerRequest,
		NoCgroups: r.NoCgroups, Pin: !r.NoPin, WorkDir: filepath.Join(o.OutDir, "lab"), Names: r.Names}
	return cfg, cfg.Check(o.Settings)
}

// resume takes what a resumed sweep recorded of the lab: its proxy, and
// whether it ran without cgroups, so that the steps still to run measure
// what the finished ones did.
func (r *Request) resume(rec *results.Sweep) error {
	if rec == nil {
		return nil
	}
	known := slices.Contains(ProxyNames(), rec.Proxy.Name)
	switch {
	case !r.Given[FieldProxy] && known:
		r.Proxy = rec.Proxy.Name
	case r.Given[FieldProxy] && known && r.Proxy != rec.Proxy.Name:
		return r.Names.Errorf(FieldProxy, "the sweep being resumed measured %s: leave %s out, or choose another %s", rec.Proxy.Name, FieldProxy, sweep.FieldOutDir)
	}
	if !r.Given[FieldNoCgroups] && !rec.Environment.CPULimitsEnforced {
		r.NoCgroups = true
	}
	return nil
}
