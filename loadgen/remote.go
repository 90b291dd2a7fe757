package loadgen

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"fortio.org/fortio/fgrpc"
	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"
)

// Resolution and Percentiles are what every run records its latency
// histogram with: remote generators (fortio's REST API) are asked for the
// same, so their histograms merge bucket for bucket with ours.
const Resolution = histogramResolution

// Percentiles are the percentiles fortio is asked to report.
func Percentiles() []float64 { return append([]float64(nil), reportedPercentiles...) }

// RemoteRun describes a run that other processes made at the same time
// (load generator pods), for MergeResults and FromHTTPResults.
type RemoteRun struct {
	URL      string
	Protocol Protocol
	Labels   string
	Warmup   time.Duration
	// QPS is the total rate asked of all generators together; 0 for max.
	QPS     float64
	Arrival Arrival
	Limits  Limits
}

// MergeResults merges the results of proxysizer load agents that ran the
// same load at the same time into one result and judges it as Run judges a
// local one: every figure a local run has, the intended-start latency and
// the schedule gates included, from the generators' own histograms and
// counts. The generators' CPU is summed, as is the CPU they may use.
func MergeResults(o RemoteRun, parts []*Result) (*Result, error) {
	if len(parts) == 0 {
		return nil, errors.New("no generator results to merge")
	}
	var intended histogramMerger
	var schedule *ScheduleCounts
	var cores, capacity, wait float64
	realtime := true
	http := make([]*fhttp.HTTPRunnerResults, 0, len(parts))
	grpc := make([]*fgrpc.GRPCRunnerResults, 0, len(parts))
	for i, p := range parts {
		switch {
		case p == nil || (p.HTTP == nil && p.GRPC == nil):
			return nil, fmt.Errorf("generator %d returned no result", i)
		case p.HTTP != nil:
			http = append(http, p.HTTP)
		default:
			grpc = append(grpc, p.GRPC)
		}
		intended.add(p.Intended)
		if p.Schedule != nil {
			if schedule == nil {
				schedule = &ScheduleCounts{}
			}
			schedule.add(*p.Schedule)
		}
		cores += p.Summary.GeneratorCPUCores
		capacity += p.Summary.GeneratorCPUCapacity
		wait += p.Summary.GeneratorCPUWaitSeconds
		realtime = realtime && p.Summary.GeneratorRealtime
	}
	if len(http) > 0 && len(grpc) > 0 {
		return nil, errors.New("generators ran different protocols")
	}
	res := &Result{Intended: intended.export(), Schedule: schedule}
	if len(http) > 0 {
		res.HTTP = mergeHTTP(o, http)
	} else {
		res.GRPC = mergeGRPC(o, grpc)
	}
	s := remoteSummary(o, res)
	s.GeneratorCPUCores, s.GeneratorCPUCapacity, s.GeneratorCPUWaitSeconds = cores, capacity, wait
	s.GeneratorRealtime = realtime
	if !s.MaxRate {
		s.Arrival = o.Arrival.String()
	}
	s.judgeSchedule(res)
	if res.Schedule == nil && !s.MaxRate {
		s.AchievedRatio = s.ActualQPS / s.RequestedQPS
	}
	applyValidity(&s, o.Limits)
	res.Summary = s
	return res, nil
}

// FromHTTPResults merges the results of fortio servers that ran the same
// load at the same time (fortio's REST API) into one fortio result and
// judges it as Run judges a local one. Histograms are merged with fortio's
// own stats.Histogram Transfer (exact when every part used Resolution;
// count, min, max and sum are exact in any case, the standard deviation
// comes from bucket midpoints). What fortio's server does not report is
// left out and said so: the intended-start latency, the schedule gates and
// the generators' CPU. MergeResults, over proxysizer's own agents, has
// them all.
func FromHTTPResults(o RemoteRun, parts []*fhttp.HTTPRunnerResults) (*Result, error) {
	if len(parts) == 0 {
		return nil, errors.New("no generator results to merge")
	}
	for i, p := range parts {
		if p == nil {
			return nil, fmt.Errorf("generator %d returned no result", i)
		}
	}
	res := &Result{HTTP: mergeHTTP(o, parts)}
	s := remoteSummary(o, res)
	s.Warnings = append(s.Warnings, fmt.Sprintf("%d fortio server(s): latency from each call's actual send only "+
		"(the intended-start figure and the behind-schedule gate need proxysizer's own engine); the generators' CPU is not measured", len(parts)))
	if !s.MaxRate {
		// fortio's calls / wall time per generator, summed: on a short run
		// it counts the connection stagger against the rate.
		s.AchievedRatio = s.ActualQPS / s.RequestedQPS
	}
	applyValidity(&s, o.Limits)
	res.Summary = s
	return res, nil
}

// remoteSummary is the summary of a merged result, before its gates.
func remoteSummary(o RemoteRun, res *Result) Summary {
	rr := res.Fortio().Result()
	s := Summary{
		URL: o.URL, Protocol: o.Protocol, Labels: o.Labels, Connections: rr.NumThreads,
		DurationSeconds: rr.ActualDuration.Seconds(), WarmupSeconds: o.Warmup.Seconds(),
		MaxRate: o.QPS <= 0, RequestedQPS: max(o.QPS, 0), ActualQPS: rr.ActualQPS,
		LatencyMs: latencyFrom(rr.DurationHistogram), Warnings: []string{},
	}
	if res.HTTP != nil {
		s.Codes = codesFromHTTP(res.HTTP.RetCodes)
	} else {
		s.Codes = codesFromGRPC(res.GRPC.RetCodes)
	}
	s.countCalls(rr.DurationHistogram, rr.ErrorsDurationHistogram)
	return s
}

// runnerMerger sums fortio's common results of runs made at the same time.
type runnerMerger struct {
	merged    periodic.RunnerResults
	started   bool
	dur, errs histogramMerger
}

func (m *runnerMerger) add(p *periodic.RunnerResults) {
	if !m.started {
		m.started = true
		m.merged = *p // run type, version, options of the first
		m.merged.ActualQPS, m.merged.NumThreads, m.merged.ActualDuration = 0, 0, 0
	}
	m.merged.ActualQPS += p.ActualQPS
	m.merged.NumThreads += p.NumThreads
	m.merged.ActualDuration = max(m.merged.ActualDuration, p.ActualDuration)
	if !p.StartTime.IsZero() && (m.merged.StartTime.IsZero() || p.StartTime.Before(m.merged.StartTime)) {
		m.merged.StartTime = p.StartTime
	}
	m.dur.add(p.DurationHistogram)
	m.errs.add(p.ErrorsDurationHistogram)
}

func (m *runnerMerger) export(o RemoteRun) periodic.RunnerResults {
	r := m.merged
	r.DurationHistogram = m.dur.export()
	r.ErrorsDurationHistogram = m.errs.export()
	r.Labels = o.Labels
	r.RequestedQPS = "max"
	if o.QPS > 0 {
		r.RequestedQPS = strconv.FormatFloat(o.QPS, 'f', -1, 64)
	}
	return r
}

func mergeHTTP(o RemoteRun, parts []*fhttp.HTTPRunnerResults) *fhttp.HTTPRunnerResults {
	merged := *parts[0] // HTTP options of the first
	merged.RetCodes = map[int]int64{}
	merged.IPCountMap = map[string]int{}
	merged.Sockets = nil
	merged.SocketCount = 0
	var runner runnerMerger
	var sizes, headers, conns histogramMerger
	for _, p := range parts {
		runner.add(&p.RunnerResults)
		for code, n := range p.RetCodes {
			merged.RetCodes[code] += n
		}
		for ip, n := range p.IPCountMap {
			merged.IPCountMap[ip] += n
		}
		merged.Sockets = append(merged.Sockets, p.Sockets...)
		merged.SocketCount += p.SocketCount
		sizes.add(p.Sizes)
		headers.add(p.HeaderSizes)
		conns.add(p.ConnectionStats)
	}
	merged.RunnerResults = runner.export(o)
	merged.Sizes, merged.HeaderSizes, merged.ConnectionStats = sizes.export(), headers.export(), conns.export()
	return &merged
}

func mergeGRPC(o RemoteRun, parts []*fgrpc.GRPCRunnerResults) *fgrpc.GRPCRunnerResults {
	first := parts[0]
	merged := fgrpc.GRPCRunnerResults{RetCodes: fgrpc.HealthResultMap{}, Destination: first.Destination,
		Streams: first.Streams, Ping: first.Ping, Metadata: first.Metadata}
	var runner runnerMerger
	for _, p := range parts {
		runner.add(&p.RunnerResults)
		for code, n := range p.RetCodes {
			merged.RetCodes[code] += n
		}
	}
	merged.RunnerResults = runner.export(o)
	return &merged
}

// histogramMerger rebuilds fortio histograms from their exported data and
// merges them with stats.Histogram.Transfer.
type histogramMerger struct {
	h             *stats.Histogram
	count         int64
	min, max, sum float64
	sawAny        bool
}

func (m *histogramMerger) add(d *stats.HistogramData) {
	if d == nil {
		return
	}
	m.sawAny = true
	if d.Count == 0 {
		return
	}
	part := stats.NewHistogram(0, Resolution)
	for _, b := range d.Data {
		// A bucket's midpoint falls into the same bucket of a histogram
		// with the same resolution, so the counts land where they were.
		part.RecordN((b.Start+b.End)/2, int(b.Count))
	}
	if m.h == nil {
		m.h = stats.NewHistogram(0, Resolution)
		m.min, m.max = math.Inf(1), math.Inf(-1)
	}
	m.h.Transfer(part)
	m.count += d.Count
	m.min, m.max, m.sum = math.Min(m.min, d.Min), math.Max(m.max, d.Max), m.sum+d.Sum
}

func (m *histogramMerger) export() *stats.HistogramData {
	if !m.sawAny {
		return nil
	}
	if m.h == nil {
		return &stats.HistogramData{}
	}
	// The exact figures, not the midpoints'.
	m.h.Count, m.h.Min, m.h.Max, m.h.Sum = m.count, m.min, m.max, m.sum
	return m.h.Export().CalcPercentiles(reportedPercentiles)
}
