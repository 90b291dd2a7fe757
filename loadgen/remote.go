package loadgen

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/stats"
)

// Resolution and Percentiles are what every run records its latency
// histogram with: remote generators (fortio's REST API) are asked for the
// same, so their histograms merge bucket for bucket with ours.
const Resolution = histogramResolution

// Percentiles are the percentiles fortio is asked to report.
func Percentiles() []float64 { return append([]float64(nil), reportedPercentiles...) }

// RemoteRun describes a run that other fortio processes made (load
// generator pods driven through fortio's REST API), for FromHTTPResults.
type RemoteRun struct {
	URL      string
	Protocol Protocol
	Labels   string
	Warmup   time.Duration
	// QPS is the total rate asked of all generators together; 0 for max.
	QPS    float64
	Limits Limits
}

// FromHTTPResults merges the results of generators that ran the same load
// at the same time into one fortio result and judges it as Run judges a
// local one. Histograms are merged with fortio's own stats.Histogram
// Transfer (exact when every part used Resolution; count, min, max and sum
// are exact in any case, the standard deviation comes from bucket
// midpoints). What only a local run can know is left out and said so: the
// intended-start latency (it needs each call's schedule) and the
// generators' CPU.
func FromHTTPResults(o RemoteRun, parts []*fhttp.HTTPRunnerResults) (*Result, error) {
	if len(parts) == 0 {
		return nil, errors.New("no generator results to merge")
	}
	merged := *parts[0] // HTTPOptions, labels, version of the first
	merged.RetCodes = map[int]int64{}
	merged.IPCountMap = map[string]int{}
	merged.Sockets = nil
	merged.SocketCount = 0
	merged.ActualQPS, merged.NumThreads, merged.ActualDuration = 0, 0, 0
	var dur, errs, sizes, headers, conns histogramMerger
	for i, p := range parts {
		if p == nil {
			return nil, fmt.Errorf("generator %d returned no result", i)
		}
		merged.ActualQPS += p.ActualQPS
		merged.NumThreads += p.NumThreads
		merged.ActualDuration = max(merged.ActualDuration, p.ActualDuration)
		if !p.StartTime.IsZero() && (merged.StartTime.IsZero() || p.StartTime.Before(merged.StartTime)) {
			merged.StartTime = p.StartTime
		}
		for code, n := range p.RetCodes {
			merged.RetCodes[code] += n
		}
		for ip, n := range p.IPCountMap {
			merged.IPCountMap[ip] += n
		}
		merged.Sockets = append(merged.Sockets, p.Sockets...)
		merged.SocketCount += p.SocketCount
		dur.add(p.DurationHistogram)
		errs.add(p.ErrorsDurationHistogram)
		sizes.add(p.Sizes)
		headers.add(p.HeaderSizes)
		conns.add(p.ConnectionStats)
	}
	merged.DurationHistogram = dur.export()
	merged.ErrorsDurationHistogram = errs.export()
	merged.Sizes, merged.HeaderSizes, merged.ConnectionStats = sizes.export(), headers.export(), conns.export()
	merged.Labels = o.Labels
	if o.QPS > 0 {
		merged.RequestedQPS = strconv.FormatFloat(o.QPS, 'f', -1, 64)
	} else {
		merged.RequestedQPS = "max"
	}

	s := Summary{
		URL: o.URL, Protocol: o.Protocol, Labels: o.Labels, Connections: merged.NumThreads,
		DurationSeconds: merged.ActualDuration.Seconds(), WarmupSeconds: o.Warmup.Seconds(),
		MaxRate: o.QPS <= 0, RequestedQPS: max(o.QPS, 0), ActualQPS: merged.ActualQPS,
		LatencyMs: latencyFrom(merged.DurationHistogram), Codes: codesFromHTTP(merged.RetCodes),
		Warnings: []string{fmt.Sprintf("%d remote generator(s): latency from each call's actual send only (the intended-start figure needs the local schedule); the generators' CPU is not measured", len(parts))},
	}
	s.countCalls(merged.DurationHistogram, merged.ErrorsDurationHistogram)
	if !s.MaxRate {
		// fortio's calls / wall time per generator, summed: on a short run
		// it counts the connection stagger against the rate.
		s.AchievedRatio = s.ActualQPS / s.RequestedQPS
	}
	applyValidity(&s, o.Limits)
	return &Result{Summary: s, HTTP: &merged}, nil
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
