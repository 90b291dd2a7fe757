package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ArrivalKind names how a fixed-rate run spaces its calls in time.
type ArrivalKind string

// The arrival processes a run can follow.
const (
	// Uniform spaces the calls evenly: call i is due at i/QPS.
	Uniform ArrivalKind = "uniform"
	// Poisson makes the gaps between calls independent and exponentially
	// distributed, as independent clients would: the rate is QPS on
	// average, with the short-term bunching a real population of callers
	// brings.
	Poisson ArrivalKind = "poisson"
	// Burst sends Arrival.Burst calls at the same instant, QPS/Burst times
	// a second: batch jobs, fan-outs, retries after a timeout.
	Burst ArrivalKind = "burst"
)

// Arrival is the arrival process of a fixed-rate run. The zero value is
// Uniform.
type Arrival struct {
	Kind ArrivalKind
	// Burst is the number of calls per burst, for Kind Burst (at least 2).
	Burst int
}

// ParseArrival reads "uniform", "poisson" or "burst:N" (N >= 2).
func ParseArrival(s string) (Arrival, error) {
	name, size, hasSize := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	switch ArrivalKind(name) {
	case Uniform, Poisson:
		if !hasSize {
			return Arrival{Kind: ArrivalKind(name)}, nil
		}
	case Burst:
		n, err := strconv.Atoi(size)
		if err == nil && n >= 2 {
			return Arrival{Kind: Burst, Burst: n}, nil
		}
		return Arrival{}, fmt.Errorf("expected burst:N with N at least 2 calls per burst, got %q", s)
	}
	return Arrival{}, fmt.Errorf("expected uniform, poisson or burst:N, got %q", s)
}

// String is the form ParseArrival reads.
func (a Arrival) String() string {
	switch a.Kind {
	case "":
		return string(Uniform)
	case Burst:
		return fmt.Sprintf("%s:%d", Burst, a.Burst)
	}
	return string(a.Kind)
}

// MarshalText writes the form ParseArrival reads (JSON: a string).
func (a Arrival) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads the form ParseArrival reads.
func (a *Arrival) UnmarshalText(b []byte) error {
	parsed, err := ParseArrival(string(b))
	if err != nil {
		return err
	}
	*a = parsed
	return nil
}

func (a Arrival) validate() error {
	switch a.Kind {
	case "", Uniform, Poisson:
		if a.Burst != 0 {
			return fieldErr(FieldArrival, "a burst size applies only to burst arrivals, got %d with %s", a.Burst, a)
		}
		return nil
	case Burst:
		if a.Burst < 2 {
			return fieldErr(FieldArrival, "expected at least 2 calls per burst, got %d", a.Burst)
		}
		return nil
	}
	return fieldErr(FieldArrival, "expected uniform, poisson or burst:N, got %q", string(a.Kind))
}

// plan is the schedule of a fixed-rate run: when each of its calls is due,
// as an offset from the run's start. It yields the offsets in order without
// storing them, so a long run at a high rate costs no memory.
//
// Every process makes exactly calls = floor(QPS x duration) calls in the
// run, so the requested rate is held in count whatever the process. For
// Poisson that is a Poisson process conditioned on its count: the arrival
// times are those of independent exponential gaps, scaled so that the
// (calls+1)th arrival falls at the end of the run. That keeps the process's
// bunching and makes the achieved/requested ratio exact on short runs, where
// an unconditioned process would be off by about 1/sqrt(calls).
type plan struct {
	arrival  Arrival
	qps      float64
	calls    int64
	duration time.Duration
	i        int64
	rng      *rand.Rand
	seed     uint64
	scale    float64 // Poisson: seconds per unit of the summed exponential gaps
	elapsed  float64 // Poisson: sum of the gaps so far
	// offset and stride select a share of the calls (see share); stride
	// 0 means all.
	offset, stride int64
}

func newPlan(a Arrival, qps float64, duration time.Duration, seed uint64) *plan {
	p := &plan{arrival: a, qps: qps, duration: duration, seed: seed,
		calls: int64(math.Floor(qps * duration.Seconds()))}
	if a.Kind == Poisson {
		// First pass: the total of the calls+1 gaps, to scale them to the run.
		rng := p.newRNG()
		var total float64
		for range p.calls + 1 {
			total += rng.ExpFloat64()
		}
		p.scale = duration.Seconds() / total
		p.rng = p.newRNG()
	}
	return p
}

func (p *plan) newRNG() *rand.Rand { return rand.New(rand.NewPCG(p.seed, p.seed^0x9e3779b97f4a7c15)) }

// next returns the due offset of the next call, or false after the last.
func (p *plan) next() (time.Duration, bool) {
	for {
		due, i, ok := p.nextOfAll()
		if !ok || p.stride <= 1 || i%p.stride == p.offset {
			return due, ok
		}
	}
}

// nextOfAll returns the next call of the whole schedule and its number.
func (p *plan) nextOfAll() (time.Duration, int64, bool) {
	if p.i >= p.calls {
		return 0, 0, false
	}
	i := p.i
	p.i++
	var seconds float64
	switch p.arrival.Kind {
	case Poisson:
		p.elapsed += p.rng.ExpFloat64()
		seconds = p.elapsed * p.scale
	case Burst:
		n := int64(p.arrival.Burst)
		seconds = float64(i/n*n) / p.qps
	default:
		seconds = float64(i) / p.qps
	}
	return time.Duration(math.Round(seconds * float64(time.Second))), i, true
}

// rate is the calls a second of the plan's share of the schedule.
func (p *plan) rate() float64 { return p.qps / float64(max(p.stride, 1)) }

// share makes the plan yield only calls n, n+of, n+2*of... of the whole
// schedule: the part one of `of` event loops makes.
func (p *plan) share(n, of int) *plan {
	if of <= 1 {
		return p
	}
	cp := *p
	if cp.rng != nil {
		cp.rng = cp.newRNG() // each share walks the whole sequence from its start
	}
	cp.offset, cp.stride = int64(n), int64(of)
	return &cp
}
