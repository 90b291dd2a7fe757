package sweep

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/model"
)

// Defaults of a sweep that are not loadgen's, with why they differ.
const (
	// DefaultWarmup: every setting restarts the proxy, whose first
	// requests pay for new connections and cold caches.
	DefaultWarmup = 2 * time.Second
	// DefaultConnections sizes each step's pool from its rate
	// (loadgen.ConnectionsFor: the calls in flight when they take up to
	// loadgen.DefaultExpectedLatency, plus headroom). A fixed pool too small
	// for the rate measures the pool, not the proxy: 8 connections left the
	// demo's steps at 1000 RPS with 7-31% of their calls waiting for one
	// (issue 16). A count fixes the pool instead.
	DefaultConnections = loadgen.AutoConnections
	// DefaultArrival is Poisson: the calls of many independent clients,
	// the closest to a sidecar's production traffic. The arrival process
	// moves the proxy's CPU per request as much as the rate does (the
	// README's table), so sizing measures the production-like one.
	DefaultArrival = string(loadgen.Poisson)
	// DefaultSearchMaxSteps is below loadgen's 25: a sweep searches once
	// per setting and every search step is a full step (warm-up and
	// duration, 12 s by default). 12 steps take a search from 100 RPS to a
	// local proxy's few thousand (6 doublings) and within about 3% of its
	// maximum (6 bisections) in under 3 minutes.
	DefaultSearchMaxSteps = 12
	// DefaultSearchMaxTime bounds each setting's search; loadgen's 15
	// minutes is for one search on its own.
	DefaultSearchMaxTime = 5 * time.Minute
	// SearchFailRetries measures a failing search step once more before
	// the search believes it: one noisy step early in a search (a late
	// schedule on a busy machine) would otherwise bisect the setting's
	// capacity down to a fraction of what it carries, and the capacity is
	// what the recommendation rests on.
	SearchFailRetries = 1
	// MaxConcurrency and MaxOutboundPerRequest bound the grid and the lab
	// app's fan-out to what one machine or pod can run.
	MaxConcurrency        = 64
	MaxOutboundPerRequest = 32
	MaxRepeats            = 10
	// The ranges of each step's load and of the search (the README's "What
	// bad input gets" lists them): far above a useful sweep, low enough
	// that none exhausts the machine before the first step (a payload is
	// allocated once per connection, a connection holds buffers).
	MaxRate           = 1e6 // inbound RPS of one step
	MaxConnections    = loadgen.MaxConnections
	MaxPayloadSize    = loadgen.MaxPayloadSize
	MaxDuration       = 24 * time.Hour
	MaxWarmup         = time.Hour
	MaxSLOP99         = time.Hour
	MaxSearchMaxSteps = 1000
	MaxSearchMaxTime  = 24 * time.Hour
)

// The inputs of a sweep, as its problems name them; a caller shows them in
// its own words through Request.Names. The setting grid's are
// driver.FieldConcurrency and driver.FieldCPULimits.
const (
	FieldRates   input.Field = "rates"
	FieldRepeats input.Field = "repeats"

	// The search of each setting's maximum.
	FieldFindMax        input.Field = "the maximum search"
	FieldSLOP99         input.Field = "p99 SLO"
	FieldSearchMaxSteps input.Field = "search steps"
	FieldSearchMaxTime  input.Field = "search time"
	FieldSearchStartRPS input.Field = "search start rate"
	FieldSearchDuration input.Field = "search step duration"

	// Each step's load.
	FieldDuration           input.Field = "step duration"
	FieldWarmup             input.Field = "warm-up"
	FieldConnections        input.Field = "connections"
	FieldArrival            input.Field = "arrival process"
	FieldProtocol           input.Field = "protocol"
	FieldPayloadSize        input.Field = "payload size"
	FieldOutboundPerRequest input.Field = "outbound calls per request"

	// Where the sweep runs and its results go.
	FieldBackend input.Field = "backend"
	FieldOutDir  input.Field = "results directory"
	FieldResume  input.Field = "resume"
)

// Request is a sweep as a person asks for it: the grid's concurrencies and
// CPU limits (quantities, or none), rates, the load of each step and where
// results go, with which fields were given at all. Options checks it.
type Request struct {
	Concurrency []int
	CPULimits   []string
	// Rates are inbound RPS, or with FindMax values up to 1 are fractions
	// of each setting's maximum.
	Rates          []float64
	Repeats        int
	FindMax        bool
	SLOP99         time.Duration
	SearchMaxSteps int
	SearchMaxTime  time.Duration
	SearchStartRPS float64
	// SearchDuration is the measured time of each search step; 0 takes
	// Duration.
	SearchDuration time.Duration

	Duration, Warmup time.Duration
	// Connections is a count, or loadgen.AutoConnections: each step's pool
	// sized from its rate.
	Connections string
	// Arrival is how each step's calls are spaced: uniform, poisson or
	// burst:N (loadgen.ParseArrival); default DefaultArrival. Both
	// backends' generators run proxysizer's engine, which makes each.
	Arrival            string
	Protocol           string
	PayloadSize        int
	OutboundPerRequest int

	// Backend is where the proxy runs: local or kubernetes (the caller
	// knows the backends; a resume takes the recorded one).
	Backend string
	// OutDir "" is out/sweep-TIMESTAMP. With Resume, the options recorded
	// in OutDir's sweep.json are the sweep's; a given field must agree.
	OutDir string
	Resume bool

	Given map[input.Field]bool
	Names input.Names
}

// DefaultRequest is a 2 x 2 grid at 3 rates: enough for a fit's
// leave-one-rate-out check, in a few minutes.
func DefaultRequest() Request {
	return Request{Concurrency: []int{1, 2}, CPULimits: []string{"500m", "1"}, Rates: []float64{200, 400, 800}, Repeats: 1,
		SearchMaxSteps: DefaultSearchMaxSteps, SearchMaxTime: DefaultSearchMaxTime, SearchStartRPS: loadgen.DefaultStartQPS,
		Duration: loadgen.DefaultDuration, Warmup: DefaultWarmup, Connections: DefaultConnections, Arrival: DefaultArrival, Protocol: string(loadgen.HTTP1),
		Backend: "local"}
}

// Options checks the request and builds the sweep's options; now names a
// default results directory. It also checks that the results directory can
// take the sweep (see Run). Each problem is an *input.Error naming its field.
func (r Request) Options(now time.Time) (Options, error) {
	o := Options{Names: r.Names}
	if r.Resume {
		var err error
		if r, o.Resumed, err = r.resumed(); err != nil {
			return o, err
		}
	}
	o.Backend = r.Backend
	limits, err := r.limits()
	if err != nil {
		return o, err
	}
	for _, c := range r.Concurrency {
		if c < 1 || c > MaxConcurrency {
			return o, r.Names.Errorf(driver.FieldConcurrency, "expected worker counts within 1..%d, got %d", MaxConcurrency, c)
		}
	}
	for _, step := range []func(*Options) error{r.rates, r.search, r.load, r.results} {
		if err := step(&o); err != nil {
			return o, err
		}
	}
	o.Settings = Grid(r.Concurrency, limits)
	if o.OutDir == "" {
		o.OutDir = filepath.Join("out", "sweep-"+now.Format("20060102-150405"))
	}
	// Before any backend starts: a sweep that cannot write its results
	// leaves nothing behind.
	_, err = o.existing(true)
	return o, err
}

func (r Request) limits() ([]int64, error) {
	if len(r.CPULimits) == 0 {
		return nil, r.Names.Errorf(driver.FieldCPULimits, "expected at least one limit")
	}
	var out []int64
	for _, s := range r.CPULimits {
		if s == "none" {
			out = append(out, 0)
			continue
		}
		m, err := quantity.ParseMillicores(s)
		if err != nil {
			return nil, r.Names.Errorf(driver.FieldCPULimits, "expected CPU quantities within %s such as 500m or 2, or none, got %q", quantity.CPURange, s)
		}
		out = append(out, m)
	}
	return out, nil
}

func (r Request) rates(o *Options) error {
	n := r.Names
	if len(r.Rates) == 0 {
		return n.Errorf(FieldRates, "expected at least one rate")
	}
	fractions := 0
	for _, rate := range r.Rates {
		if !model.Positive(rate) || rate > MaxRate {
			return n.Errorf(FieldRates, "expected rates > 0 and at most %g RPS, got %v", float64(MaxRate), rate)
		}
		if rate <= 1 {
			fractions++
		}
	}
	switch {
	case fractions > 0 && !r.FindMax:
		return n.Errorf(FieldRates, "values up to 1 are fractions of a setting's maximum and need %s, got %v", FieldFindMax, r.Rates)
	case fractions > 0 && fractions < len(r.Rates):
		return n.Errorf(FieldRates, "give either fractions (0 < r <= 1) or rates in RPS, not both, got %v", r.Rates)
	case r.Repeats < 1 || r.Repeats > MaxRepeats:
		return n.Errorf(FieldRepeats, "expected 1..%d, got %d", MaxRepeats, r.Repeats)
	}
	o.Rates, o.Fractions, o.FindMax, o.Repeats = r.Rates, fractions > 0, r.FindMax, r.Repeats
	return nil
}

func (r Request) search(o *Options) error {
	n := r.Names
	switch {
	case r.Given[FieldSLOP99] && !r.FindMax:
		return n.Errorf(FieldSLOP99, "only used with %s", FieldFindMax)
	case r.SLOP99 < 0 || r.SLOP99 > MaxSLOP99:
		return n.Errorf(FieldSLOP99, "expected a duration within 0..%v (0: none), got %v", MaxSLOP99, r.SLOP99)
	case r.SearchMaxSteps < 1 || r.SearchMaxSteps > MaxSearchMaxSteps:
		return n.Errorf(FieldSearchMaxSteps, "expected 1..%d steps, got %d", MaxSearchMaxSteps, r.SearchMaxSteps)
	case r.SearchMaxTime <= 0 || r.SearchMaxTime > MaxSearchMaxTime:
		return n.Errorf(FieldSearchMaxTime, "expected a duration > 0 and at most %v, got %v", MaxSearchMaxTime, r.SearchMaxTime)
	case !model.Positive(r.SearchStartRPS) || r.SearchStartRPS > MaxRate:
		return n.Errorf(FieldSearchStartRPS, "expected a rate > 0 and at most %g RPS, got %v", float64(MaxRate), r.SearchStartRPS)
	case r.SearchDuration < 0 || r.SearchDuration > MaxDuration:
		return n.Errorf(FieldSearchDuration, "expected a duration within 0..%v (0: the step duration), got %v", MaxDuration, r.SearchDuration)
	case r.Given[FieldSearchDuration] && !r.FindMax:
		return n.Errorf(FieldSearchDuration, "only used with %s", FieldFindMax)
	}
	o.SearchDuration = r.SearchDuration
	o.Search = loadgen.SearchOptions{SLO: loadgen.SLO{P99: r.SLOP99}, StartQPS: r.SearchStartRPS,
		MaxSteps: r.SearchMaxSteps, MaxTime: r.SearchMaxTime, FailRetries: SearchFailRetries}
	return nil
}

func (r Request) load(o *Options) error {
	n := r.Names
	proto, err := loadgen.ParseProtocol(r.Protocol)
	switch {
	case err != nil:
		return n.Errorf(FieldProtocol, "%v", err)
	case proto == loadgen.GRPC:
		return n.Errorf(FieldProtocol, "the local lab's app speaks HTTP: expected http1 or h2c, got grpc")
	case r.Duration <= 0 || r.Duration > MaxDuration:
		return n.Errorf(FieldDuration, "expected a duration > 0 and at most %v, got %v", MaxDuration, r.Duration)
	case r.Warmup < 0 || r.Warmup > MaxWarmup:
		return n.Errorf(FieldWarmup, "expected a duration within 0..%v, got %v", MaxWarmup, r.Warmup)
	case r.PayloadSize < 0 || r.PayloadSize > MaxPayloadSize:
		return n.Errorf(FieldPayloadSize, "expected 0..%d bytes (16 MiB), got %d", MaxPayloadSize, r.PayloadSize)
	}
	arrival, err := r.arrival()
	if err != nil {
		return err
	}
	connections, err := r.connections()
	if err != nil {
		return err
	}
	o.Load = driver.LoadSpec{Duration: r.Duration, Warmup: r.Warmup, Connections: connections, Protocol: proto, PayloadSize: r.PayloadSize,
		Arrival: arrival}
	return nil
}

// arrival reads the arrival process.
func (r Request) arrival() (loadgen.Arrival, error) {
	a, err := loadgen.ParseArrival(r.Arrival)
	if err != nil {
		return a, r.Names.Errorf(FieldArrival, "%v", err)
	}
	return a, nil
}

func (r Request) results(o *Options) error {
	n := r.Names
	switch {
	case r.OutboundPerRequest < 0 || r.OutboundPerRequest > MaxOutboundPerRequest:
		return n.Errorf(FieldOutboundPerRequest, "expected 0..%d calls, got %d", MaxOutboundPerRequest, r.OutboundPerRequest)
	case r.Resume && r.OutDir == "":
		return n.Errorf(FieldResume, "needs %s: the directory of the sweep to continue", FieldOutDir)
	}
	o.OutboundPerRequest, o.OutDir, o.Resume = r.OutboundPerRequest, r.OutDir, r.Resume
	return nil
}

// connections reads the pool: a count within 1..MaxConnections, or
// loadgen.AutoConnections as 0 (each step sizes its own).
func (r Request) connections() (int, error) {
	if strings.EqualFold(r.Connections, loadgen.AutoConnections) {
		return 0, nil
	}
	c, err := strconv.Atoi(r.Connections)
	switch {
	case err != nil:
		return 0, r.Names.Errorf(FieldConnections, "expected a number of connections or %s, got %q", loadgen.AutoConnections, r.Connections)
	case c < 1 || c > MaxConnections:
		return 0, r.Names.Errorf(FieldConnections, "expected 1..%d connections or %s, got %d", MaxConnections, loadgen.AutoConnections, c)
	}
	return c, nil
}

// ConnectionsString is a recorded pool as Request.Connections takes it: 0
// (sized per step) is loadgen.AutoConnections.
func ConnectionsString(recorded int) string {
	if recorded == 0 {
		return loadgen.AutoConnections
	}
	return strconv.Itoa(recorded)
}
