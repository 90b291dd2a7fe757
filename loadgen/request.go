package loadgen

import (
	"strconv"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
)

// Request is a Job as a person asks for it, each value as typed ("max",
// "auto", "burst:8"); Job checks it. DefaultRequest holds every default,
// so a zero a caller leaves is a value given, and refused where 0 would
// otherwise mean "the default" to Options.
type Request struct {
	URL             string
	QPS             string // a rate, or "max"
	Arrival         string // uniform, poisson or burst:N
	Connections     string // a count, or "auto": sized from the rate
	ExpectedLatency time.Duration
	Duration        time.Duration
	Warmup          time.Duration
	Protocol        string
	PayloadSize     int
	Headers         []string
	Labels          string
	ConnectTimeout  time.Duration
	RequestTimeout  time.Duration
	MaxErrorRatio   float64
	NoRealtime      bool

	// FindMax searches for the highest rate that meets the SLO, with the
	// fields below, instead of one run at QPS.
	FindMax     bool
	SLOP99      time.Duration
	SLOBasis    string
	StartQPS    float64
	MaxQPS      float64
	Precision   float64
	MaxSteps    int
	MaxTime     time.Duration
	FailRetries int

	// SaveDir, when set, receives the runs (Job.SaveDir).
	SaveDir string

	// Given says which fields the person set: the fields of a search make
	// no sense without FindMax, nor a rate with it.
	Given map[input.Field]bool
	// Names shows the fields in the caller's words (a command line's flags).
	Names input.Names
}

// AutoConnections as Request.Connections sizes the pool from the rate
// (ConnectionsFor).
const AutoConnections = "auto"

// DefaultRequest is a Request with every default: a 10 s run at 100 qps,
// evenly spaced, on a pool sized from the rate, after a 2 s warm-up.
func DefaultRequest() Request {
	return Request{
		QPS: "100", Arrival: string(Uniform), Connections: AutoConnections, ExpectedLatency: DefaultExpectedLatency,
		Duration: DefaultDuration, Warmup: DefaultWarmup, Protocol: string(HTTP1),
		ConnectTimeout: DefaultConnectTimeout, RequestTimeout: DefaultRequestTimeout,
		MaxErrorRatio: DefaultLimits.MaxErrorRatio,
		SLOBasis:      string(IntendedLatency), StartQPS: DefaultStartQPS, MaxQPS: DefaultMaxQPS,
		Precision: DefaultPrecision, MaxSteps: DefaultMaxSteps, MaxTime: DefaultMaxTime, FailRetries: DefaultFailRetries,
	}
}

// searchFields are a search's own fields.
var searchFields = []Field{FieldSLOP99, FieldSLOBasis, FieldStartQPS, FieldMaxQPS, FieldPrecision, FieldMaxSteps, FieldMaxTime, FieldFailRetries}

// Job checks the request into what Do runs; a problem is an *input.Error
// naming the field in r.Names' words.
func (r Request) Job() (Job, error) {
	if err := r.checkCombinations(); err != nil {
		return Job{}, err
	}
	if err := r.checkZeros(); err != nil {
		return Job{}, err
	}
	o, err := r.options()
	if err != nil {
		return Job{}, err
	}
	if err := o.Validate(); err != nil {
		return Job{}, named(r.Names, err)
	}
	job := Job{Options: o, SaveDir: r.SaveDir, Names: r.Names}
	if r.SaveDir != "" {
		if err := CheckSaveDir(r.SaveDir); err != nil {
			return Job{}, named(r.Names, err)
		}
	}
	if r.FindMax {
		if job.Search, err = r.search(); err != nil {
			return Job{}, err
		}
	}
	return job, nil
}

// checkCombinations refuses fields that do not go together.
func (r Request) checkCombinations() error {
	n := r.Names
	switch {
	case r.FindMax && r.Given[FieldQPS]:
		return n.Errorf(FieldQPS, "not used with %s, which picks the rates (see %s)", FieldFindMax, FieldStartQPS)
	case !r.FindMax && strings.EqualFold(r.QPS, "max") && r.Given[FieldArrival]:
		return n.Errorf(FieldArrival, "applies only to a fixed rate, not %s max", FieldQPS)
	case r.Given[FieldExpectedLatency] && !strings.EqualFold(r.Connections, AutoConnections):
		return n.Errorf(FieldExpectedLatency, "applies only with %s %s", FieldConnections, AutoConnections)
	}
	if !r.FindMax {
		for _, f := range searchFields {
			if r.Given[f] {
				return n.Errorf(f, "applies only with %s", FieldFindMax)
			}
		}
	}
	return nil
}

// checkZeros refuses a zero where Options would take it as the default.
func (r Request) checkZeros() error {
	zero := []struct {
		field Field
		is    bool
	}{
		{FieldDuration, r.Duration == 0}, {FieldConnectTimeout, r.ConnectTimeout == 0},
		{FieldRequestTimeout, r.RequestTimeout == 0}, {FieldMaxErrorRatio, r.MaxErrorRatio == 0},
		{FieldExpectedLatency, r.ExpectedLatency == 0},
	}
	if r.FindMax {
		zero = append(zero, []struct {
			field Field
			is    bool
		}{{FieldPrecision, r.Precision == 0}, {FieldMaxSteps, r.MaxSteps == 0}, {FieldMaxTime, r.MaxTime == 0}}...)
	}
	for _, z := range zero {
		if z.is {
			return r.Names.Errorf(z.field, "expected a positive value, got 0 (0 is not the default)")
		}
	}
	return nil
}

// options parses the run's fields; Options.Validate checks the values.
func (r Request) options() (Options, error) {
	n := r.Names
	protocol, err := ParseProtocol(r.Protocol)
	if err != nil {
		return Options{}, n.Errorf(FieldProtocol, "%v", err)
	}
	arrival, err := ParseArrival(r.Arrival)
	if err != nil {
		return Options{}, n.Errorf(FieldArrival, "%v", err)
	}
	connections, err := r.connections()
	if err != nil {
		return Options{}, err
	}
	o := Options{
		URL: r.URL, Protocol: protocol, Arrival: arrival, Connections: connections, ExpectedLatency: r.ExpectedLatency,
		Duration: r.Duration, Warmup: r.Warmup,
		PayloadSize: r.PayloadSize, Headers: r.Headers, Labels: r.Labels,
		RequestTimeout: r.RequestTimeout, ConnectTimeout: r.ConnectTimeout, NoRealtime: r.NoRealtime,
		Limits: Limits{MaxErrorRatio: r.MaxErrorRatio},
	}
	if r.FindMax {
		o.QPS = r.StartQPS // checked as a rate here; the search sets each step's
		return o, nil
	}
	o.QPS, err = r.qps()
	return o, err
}

// qps reads a positive rate or "max".
func (r Request) qps() (float64, error) {
	if strings.EqualFold(r.QPS, "max") {
		return MaxRate, nil
	}
	v, err := strconv.ParseFloat(r.QPS, 64)
	if err != nil || !(v > 0 && v <= MaxSearchQPS) {
		return 0, r.Names.Errorf(FieldQPS, "expected a positive rate or max, got %q", r.QPS)
	}
	return v, nil
}

// connections reads a count or "auto" (0 to Options: sized from the rate).
func (r Request) connections() (int, error) {
	if strings.EqualFold(r.Connections, AutoConnections) {
		return 0, nil
	}
	c, err := strconv.Atoi(r.Connections)
	switch {
	case err != nil:
		return 0, r.Names.Errorf(FieldConnections, "expected a number of connections or %s, got %q", AutoConnections, r.Connections)
	case c == 0:
		return 0, r.Names.Errorf(FieldConnections, "expected a positive value, got 0 (0 is not the default)")
	}
	return c, nil // Options.Validate checks the range
}

// search reads a search's fields.
func (r Request) search() (*SearchOptions, error) {
	if r.StartQPS <= 0 { // 0 would be the default to SearchOptions
		return nil, r.Names.Errorf(FieldStartQPS, "expected a positive rate, got %g", r.StartQPS)
	}
	s := &SearchOptions{
		SLO:      SLO{P99: r.SLOP99, Basis: LatencyBasis(r.SLOBasis)},
		StartQPS: r.StartQPS, MaxQPS: r.MaxQPS, Precision: r.Precision, MaxSteps: r.MaxSteps, MaxTime: r.MaxTime,
		FailRetries: r.FailRetries,
	}
	if err := s.Validate(); err != nil {
		return nil, named(r.Names, err)
	}
	return s, nil
}
