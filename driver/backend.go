package driver

import (
	"context"
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// The grid of settings a sweep runs, as the sweep and its backends name it
// in problems (see internal/input).
const (
	FieldConcurrency input.Field = "concurrency"
	FieldCPULimits   input.Field = "CPU limits"
)

// LoadSpec is the load of one step. Its rate is in RPS, the word of
// everything above loadgen; Options turns it into loadgen's QPS.
type LoadSpec struct {
	RPS         float64 // loadgen.MaxRate (0) for as fast as possible
	Duration    time.Duration
	Warmup      time.Duration
	Connections int
	Protocol    loadgen.Protocol
	PayloadSize int
	// Arrival spaces the calls of a fixed rate (loadgen's default, evenly
	// spaced, when zero).
	Arrival  loadgen.Arrival
	Labels   string
	Progress func(loadgen.Progress)
}

// Options turns the spec into a load run against url (no warm-up: backends
// run the warm-up separately, so that their counters bracket only the
// measured run).
func (s LoadSpec) Options(url string) loadgen.Options {
	return loadgen.Options{URL: url, Protocol: s.Protocol, QPS: s.RPS, Connections: s.Connections,
		Arrival: s.Arrival, Duration: s.Duration, PayloadSize: s.PayloadSize, Labels: s.Labels, Progress: s.Progress}
}

// WarmupOptions is the warm-up run for the spec: the same load for the
// warm-up time, reported as the warm-up phase.
func (s LoadSpec) WarmupOptions(url string) loadgen.Options {
	o := s.Options(url)
	o.Duration = s.Warmup
	if s.Progress != nil {
		o.Progress = func(p loadgen.Progress) {
			p.Phase = loadgen.PhaseWarmup
			s.Progress(p)
		}
	}
	return o
}

// Measurement is what a backend measured over one step's load run.
type Measurement struct {
	Load *loadgen.Result
	// Wall is the time the proxy's counters were read across.
	Wall time.Duration

	ProxyCPUSeconds float64
	// Periods, ThrottledPeriods and ThrottledSeconds are the CFS counters'
	// deltas; HasThrottling is false where they cannot be read.
	Periods, ThrottledPeriods int64
	ThrottledSeconds          float64
	HasThrottling             bool
	MemoryWorkingSetBytes     int64

	// ProxyRequests is every request the proxy carried; InboundRequests
	// those on its inbound listener.
	ProxyRequests, InboundRequests int64

	// Sources says where each figure came from: "cpu", "memory", "requests".
	Sources  map[string]string
	Warnings []string
}

// Backend runs a sweep's steps on a proxy. A sweep calls Start for a
// setting, Measure for each of its rates, Stop, and Close at the end; Close
// (and Stop) must leave nothing modified, also after an error or a
// cancelled context.
type Backend interface {
	// Describe says which proxy the figures describe and where they ran.
	Describe() (results.Proxy, results.Environment)
	Start(ctx context.Context, s results.Setting) error
	Measure(ctx context.Context, spec LoadSpec) (*Measurement, error)
	// Baseline loads the app without the proxy in the path.
	Baseline(ctx context.Context, spec LoadSpec) (*loadgen.Result, error)
	Stop(ctx context.Context) error
	Close() error
}
