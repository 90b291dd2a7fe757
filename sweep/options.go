package sweep

import (
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// Options describe a sweep.
type Options struct {
	Settings []results.Setting
	// Rates are inbound RPS, or with Fractions, fractions of the maximum
	// each setting's search found.
	Rates     []float64
	Fractions bool
	// Repeats measures each rate this many times, interleaved (all rates,
	// then all rates again), so drift does not line up with the rate.
	Repeats int
	FindMax bool
	Search  loadgen.SearchOptions
	// SearchDuration is the measured time of each search step; 0 takes
	// Load.Duration. Short search steps keep a search affordable: the search
	// only has to tell pass from fail, the grid's steps fit the cost.
	SearchDuration time.Duration
	// Load is every step's load but its rate.
	Load               driver.LoadSpec
	OutboundPerRequest int

	OutDir string
	Resume bool
	// Resumed is the record a resume continues (nil for a new sweep): a
	// backend takes what it recorded (the proxy) from it.
	Resumed *results.Sweep
	Tool    string // proxysizer's version
	Backend string // local or kubernetes

	// Printer shows progress; nil prints nothing.
	Printer *loadgen.ProgressPrinter
	// Names shows the inputs that problems name in the caller's words.
	Names input.Names
}

// record is the part of the options a resumed sweep must share.
func (o Options) record() results.Options {
	r := results.Options{
		Rates: o.Rates, RatesAreFractions: o.Fractions, Repeats: o.repeats(), FindMax: o.FindMax,
		OutboundPerRequest: o.OutboundPerRequest,
		DurationSeconds:    o.Load.Duration.Seconds(), WarmupSeconds: o.Load.Warmup.Seconds(),
		Connections: o.Load.Connections, Protocol: string(o.Load.Protocol), PayloadBytes: o.Load.PayloadSize,
		Arrival:  o.Load.Arrival.String(),
		SLOP99Ms: float64(o.Search.SLO.P99) / float64(time.Millisecond),
	}
	if o.FindMax && o.SearchDuration > 0 && o.SearchDuration != o.Load.Duration {
		r.SearchDurationSeconds = o.SearchDuration.Seconds()
	}
	seenC, seenL := map[int]bool{}, map[int64]bool{}
	for _, s := range o.Settings {
		if !seenC[s.Concurrency] {
			seenC[s.Concurrency] = true
			r.Concurrency = append(r.Concurrency, s.Concurrency)
		}
		if !seenL[s.CPULimitMillicores] {
			seenL[s.CPULimitMillicores] = true
			r.CPULimitMillicores = append(r.CPULimitMillicores, s.CPULimitMillicores)
		}
	}
	return r
}

func (o Options) repeats() int { return max(1, o.Repeats) }

// configuredPerInbound is the requests through the proxy per inbound
// request the local lab's fan-out makes (1 + k); 0 on a cluster, where the
// app's own calls are what the sweep measures.
func (o Options) configuredPerInbound() float64 {
	if o.Backend == "kubernetes" {
		return 0
	}
	return 1 + float64(o.OutboundPerRequest)
}

// Grid is every concurrency x CPU-limit pair, concurrency first.
func Grid(concurrency []int, limits []int64) []results.Setting {
	var out []results.Setting
	for _, c := range concurrency {
		for _, l := range limits {
			out = append(out, results.Setting{Concurrency: c, CPULimitMillicores: l})
		}
	}
	return out
}
