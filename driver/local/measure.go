package local

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/loadgen"
)

var lookPath = exec.LookPath

// snapshot is the proxy's counters at one instant.
type snapshot struct {
	at       time.Time
	usage    Usage
	cpuProc  float64 // from /proc when there is no cgroup
	counters Counters
}

func (b *Backend) snapshot(ctx context.Context) (snapshot, error) {
	s := snapshot{at: time.Now()}
	var err error
	if b.cgroup != nil {
		if s.usage, err = b.cgroup.Usage(); err != nil {
			return s, err
		}
	} else if s.cpuProc, err = groupCPUSeconds(b.proxy.pid()); err != nil {
		return s, err
	}
	s.counters, err = b.cfg.Proxy.ReadCounters(ctx, b.ports)
	return s, err
}

// Measure runs the warm-up, then the measured run with the proxy's counters
// read right before and after it, so they bracket exactly the measured load.
func (b *Backend) Measure(ctx context.Context, spec driver.LoadSpec) (*driver.Measurement, error) {
	if b.proxy == nil {
		return nil, errors.New("no proxy running: Start it first")
	}
	if spec.Warmup > 0 {
		if _, err := loadgen.Run(ctx, spec.WarmupOptions(b.inboundURL())); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	before, err := b.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the proxy's counters: %w", err)
	}
	res, err := loadgen.Run(ctx, spec.Options(b.inboundURL()))
	if err != nil {
		return nil, err
	}
	if b.proxy.exited() {
		return nil, fmt.Errorf("%s exited during the run: %s", b.cfg.Proxy.Name(), b.proxy.logTail())
	}
	after, err := b.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the proxy's counters: %w", err)
	}
	return b.measurement(res, before, after), nil
}

func (b *Backend) measurement(res *loadgen.Result, before, after snapshot) *driver.Measurement {
	m := &driver.Measurement{Load: res, Wall: after.at.Sub(before.at), Sources: map[string]string{}}
	m.ProxyRequests = after.counters.Total - before.counters.Total - b.cfg.Proxy.ScrapesCounted()
	// fortio makes one call per connection before its clock starts and
	// leaves it out of its count; the proxy carried it all the same.
	m.InboundRequests = res.Summary.Requests + int64(res.Summary.Connections)
	m.Sources["requests"] = after.counters.Source
	m.Sources["inbound_requests"] = "load generator's calls (including fortio's one warm-up call per connection)"
	if after.counters.Split {
		m.InboundRequests = after.counters.Inbound - before.counters.Inbound
		m.Sources["inbound_requests"] = after.counters.Source + " (inbound listener)"
	}
	if b.cgroup != nil {
		m.ProxyCPUSeconds = float64(after.usage.CPUNanos-before.usage.CPUNanos) / 1e9
		m.Periods = after.usage.Periods - before.usage.Periods
		m.ThrottledPeriods = after.usage.ThrottledPeriods - before.usage.ThrottledPeriods
		m.ThrottledSeconds = float64(after.usage.ThrottledNanos-before.usage.ThrottledNanos) / 1e9
		m.HasThrottling = true
		m.Sources["cpu"] = "cgroup " + b.hierarchy.Version() + " CPU usage and CFS statistics"
		if after.usage.HasMemory {
			m.MemoryWorkingSetBytes = after.usage.WorkingSet
			m.Sources["memory"] = "cgroup memory usage minus inactive file pages (working set, as cAdvisor)"
		}
	} else {
		m.ProxyCPUSeconds = after.cpuProc - before.cpuProc
		m.Sources["cpu"] = "/proc utime+stime of the proxy's process group (10 ms resolution)"
	}
	if m.Sources["memory"] == "" {
		if rss, err := groupRSS(b.proxy.pid()); err == nil {
			m.MemoryWorkingSetBytes = rss
			m.Sources["memory"] = "/proc RSS of the proxy's process group"
		}
	}
	return m
}

// Baseline loads the app without the proxy: the same fan-out, made directly
// to the downstream.
func (b *Backend) Baseline(ctx context.Context, spec driver.LoadSpec) (*loadgen.Result, error) {
	url := fmt.Sprintf("http://127.0.0.1:%d/echo", b.ports.AppDirect)
	if spec.Warmup > 0 {
		if _, err := loadgen.Run(ctx, spec.WarmupOptions(url)); err != nil {
			return nil, fmt.Errorf("baseline warm-up: %w", err)
		}
	}
	return loadgen.Run(ctx, spec.Options(url))
}
