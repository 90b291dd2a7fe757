package loadgen

import (
	"math"
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"
)

// part is one generator's result with the given latencies (seconds).
func part(qps float64, threads int, errors int, lat ...float64) (*fhttp.HTTPRunnerResults, *stats.Histogram) {
	h := stats.NewHistogram(0, Resolution)
	e := stats.NewHistogram(0, Resolution)
	for i, v := range lat {
		h.Record(v)
		if i < errors {
			e.Record(v)
		}
	}
	r := &fhttp.HTTPRunnerResults{RunnerResults: periodic.RunnerResults{
		ActualQPS: qps, NumThreads: threads, ActualDuration: 2 * time.Second,
		DurationHistogram: h.Export(), ErrorsDurationHistogram: e.Export(),
	}, RetCodes: map[int]int64{200: int64(len(lat) - errors), -1: int64(errors)}}
	return r, h
}

func TestFromHTTPResultsMergesLikeOneHistogram(t *testing.T) {
	a, ha := part(50, 2, 1, 0.001, 0.002, 0.0031, 0.010)
	b, hb := part(49, 2, 0, 0.0005, 0.0042, 0.0043, 0.0044, 0.250)
	whole := stats.Merge(ha, hb).Export()
	res, err := FromHTTPResults(RemoteRun{URL: "http://svc:8080/", QPS: 100, Labels: "step"}, []*fhttp.HTTPRunnerResults{a, b})
	if err != nil {
		t.Fatal(err)
	}
	got := res.HTTP.DurationHistogram
	if got.Count != 9 || got.Min != 0.0005 || got.Max != 0.250 || math.Abs(got.Sum-whole.Sum) > 1e-12 {
		t.Fatalf("merged counter %+v, want %+v", got, whole)
	}
	for _, p := range []float64{50, 90, 99} {
		if g, w := got.CalcPercentile(p), whole.CalcPercentile(p); math.Abs(g-w) > 1e-9 {
			t.Errorf("p%g = %g, want %g", p, g, w)
		}
	}
	s := res.Summary
	if s.Requests != 9 || s.Errors != 1 || s.Codes["200"] != 8 || s.Codes["-1"] != 1 || s.Connections != 4 {
		t.Errorf("summary %+v", s)
	}
	if s.ActualQPS != 99 || s.AchievedRatio != 0.99 || s.RequestedQPS != 100 || res.HTTP.RequestedQPS != "100" {
		t.Errorf("rates %+v (fortio %q)", s, res.HTTP.RequestedQPS)
	}
	// 1 of 9 failed: over the 1% gate.
	if s.Valid || len(s.InvalidReasons) != 1 || s.IntendedLatencyMs != nil {
		t.Errorf("verdict %v %v", s.Valid, s.InvalidReasons)
	}
	if len(res.HTTP.DurationHistogram.Percentiles) != len(reportedPercentiles) {
		t.Errorf("percentiles %+v", res.HTTP.DurationHistogram.Percentiles)
	}
	if _, err := FromHTTPResults(RemoteRun{}, nil); err == nil {
		t.Error("no parts: want an error")
	}
}
