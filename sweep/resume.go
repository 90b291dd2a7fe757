package sweep

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// recorded are the fields a sweep.json records: a resume reads them from
// there, and a field given again must say the same. show writes a field
// as its flag takes it, normalised (1 and 1000m are one limit).
var recorded = []struct {
	field input.Field
	show  func(Request) string
}{
	{FieldBackend, func(r Request) string { return r.Backend }},
	{driver.FieldConcurrency, func(r Request) string { return list(r.Concurrency, strconv.Itoa) }},
	{driver.FieldCPULimits, func(r Request) string { return list(r.CPULimits, normalLimit) }},
	{FieldRates, func(r Request) string { return list(r.Rates, formatFloat) }},
	{FieldRepeats, func(r Request) string { return strconv.Itoa(max(1, r.Repeats)) }},
	{FieldFindMax, func(r Request) string { return strconv.FormatBool(r.FindMax) }},
	{FieldSLOP99, func(r Request) string { return r.SLOP99.String() }},
	{FieldDuration, func(r Request) string { return r.Duration.String() }},
	{FieldWarmup, func(r Request) string { return r.Warmup.String() }},
	{FieldConnections, func(r Request) string { return strconv.Itoa(r.Connections) }},
	{FieldArrival, func(r Request) string { return normalArrival(r.Arrival) }},
	{FieldProtocol, func(r Request) string { return r.Protocol }},
	{FieldPayloadSize, func(r Request) string { return strconv.Itoa(r.PayloadSize) }},
	{FieldOutboundPerRequest, func(r Request) string { return strconv.Itoa(r.OutboundPerRequest) }},
}

// resumed is the request a resume runs: the options recorded in the
// results directory, plus the fields a record does not hold (the search's
// bounds) as given. A given field that disagrees with the record is named,
// all of them in one problem; so is a directory still being swept.
func (r Request) resumed() (Request, *results.Sweep, error) {
	n := r.Names
	if r.OutDir == "" {
		return r, nil, n.Errorf(FieldResume, "needs %s: the directory of the sweep to continue", FieldOutDir)
	}
	rec, err := results.Load(r.OutDir)
	if err != nil {
		return r, nil, n.Errorf(FieldResume, "%w", err)
	}
	if rec.Status == results.SweepRunning && rec.Owner.Alive() && !rec.Owner.Self() {
		return r, nil, n.Errorf(FieldResume, "%s is being swept by process %d, which is still running: let it finish or stop it first", r.OutDir, rec.Owner.PID)
	}
	was := fromRecord(rec, r)
	var given, sweptWith []string
	for _, f := range recorded {
		if r.Given[f.field] && f.show(r) != f.show(was) {
			given = append(given, n.Sprintf("%s %s", f.field, f.show(r)))
			sweptWith = append(sweptWith, n.Sprintf("%s %s", f.field, f.show(was)))
		}
	}
	if len(given) > 0 {
		return r, nil, n.Errorf(FieldResume, "%s was swept with %s: leave out %s (a resume reads the options from its %s), or choose another %s",
			r.OutDir, strings.Join(sweptWith, ", "), strings.Join(given, ", "), results.FileName, FieldOutDir)
	}
	return was, rec, nil
}

// fromRecord is r with the options rec was swept with.
func fromRecord(rec *results.Sweep, r Request) Request {
	o := rec.Options
	r.Backend = rec.Backend
	if r.Backend == "" {
		r.Backend = "local"
	}
	r.Concurrency = o.Concurrency
	r.CPULimits = nil
	for _, m := range o.CPULimitMillicores {
		r.CPULimits = append(r.CPULimits, results.LimitString(m))
	}
	r.Rates, r.Repeats, r.FindMax = o.Rates, max(1, o.Repeats), o.FindMax
	r.SLOP99 = seconds(o.SLOP99Ms / 1000)
	r.Duration, r.Warmup = seconds(o.DurationSeconds), seconds(o.WarmupSeconds)
	r.Connections, r.Protocol, r.PayloadSize, r.OutboundPerRequest = o.Connections, o.Protocol, o.PayloadBytes, o.OutboundPerRequest
	r.Arrival = o.ArrivalProcess()
	r.Given = maps.Clone(r.Given)
	if r.Given == nil {
		r.Given = map[input.Field]bool{}
	}
	r.Given[FieldArrival] = true // recorded: not the backend's default
	return r
}

func normalArrival(s string) string {
	if a, err := loadgen.ParseArrival(s); err == nil {
		return a.String()
	}
	return s
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

func normalLimit(s string) string {
	if m, err := quantity.ParseMillicores(s); err == nil {
		return results.LimitString(m)
	}
	return s
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func list[T any](xs []T, format func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = format(x)
	}
	return strings.Join(parts, ",")
}

// describeOwner says who left a record running, for messages.
func describeOwner(rec *results.Sweep) string {
	if rec.Owner == nil {
		return "its process is unknown"
	}
	return fmt.Sprintf("process %d", rec.Owner.PID)
}
