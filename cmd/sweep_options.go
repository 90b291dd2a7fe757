package cmd

import (
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/local"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/sweep"
)

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
