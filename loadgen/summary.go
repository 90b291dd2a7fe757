package loadgen

import (
	"fmt"
	"strconv"

	"fortio.org/fortio/stats"
)

// histogramResolution is the bucket unit, in seconds, of every latency
// histogram a run records, fortio's included. fortio's default (1ms) puts all
// of a fast local target into one bucket; 10us buckets resolve sub-millisecond
// latencies and still reach 1s before the overflow bucket (whose percentiles
// fortio interpolates up to the maximum).
const histogramResolution = 1e-5

// reportedPercentiles are asked of fortio so that its JSON carries them too.
var reportedPercentiles = []float64{50, 90, 99, 99.9}

// Latency holds latency figures in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Avg  float64 `json:"avg"`
	Max  float64 `json:"max"`
}

func latencyFrom(h *stats.HistogramData) Latency {
	if h == nil || h.Count == 0 {
		return Latency{}
	}
	ms := func(seconds float64) float64 { return seconds * 1000 }
	return Latency{
		P50:  ms(h.CalcPercentile(50)),
		P90:  ms(h.CalcPercentile(90)),
		P99:  ms(h.CalcPercentile(99)),
		P999: ms(h.CalcPercentile(99.9)),
		Avg:  ms(h.Avg),
		Max:  ms(h.Max),
	}
}

// Summary is one run's figures and verdict. Its JSON is proxysizer's
// contract (`proxysizer load -o json`); field names must not change.
type Summary struct {
	URL         string   `json:"url"`
	Protocol    Protocol `json:"protocol"`
	Labels      string   `json:"labels,omitempty"`
	Connections int      `json:"connections"`
	// DurationSeconds is the measured period as fortio timed it.
	DurationSeconds float64 `json:"duration_s"`
	WarmupSeconds   float64 `json:"warmup_s"`
	// MaxRate is true when no rate was requested (RequestedQPS is then 0).
	MaxRate      bool    `json:"max_rate"`
	RequestedQPS float64 `json:"requested_qps"`
	// Arrival is the arrival process of a fixed-rate run (uniform, poisson,
	// burst:N); empty for a max-rate run, whose calls follow each other.
	Arrival   string  `json:"arrival,omitempty"`
	ActualQPS float64 `json:"actual_qps"`
	// AchievedRatio is the achieved/requested rate over the span of the
	// schedule (see ScheduleCounts.achievedRatio); 0 for max-rate runs.
	// ActualQPS is fortio's calls / wall time, which on a short run also
	// counts the last call's latency.
	AchievedRatio float64 `json:"achieved_ratio"`
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	ErrorRatio    float64 `json:"error_ratio"`
	// Codes counts calls by HTTP status (-1: socket error) or gRPC status.
	Codes map[string]int64 `json:"codes"`
	// LatencyMs is fortio's figure: from each call's actual send.
	LatencyMs Latency `json:"latency_ms"`
	// IntendedLatencyMs is measured from each call's intended send time in
	// the fixed-rate schedule (see intended.go); nil for max-rate runs,
	// which have no schedule.
	IntendedLatencyMs *Latency `json:"intended_latency_ms"`
	// BehindRatio is the share of calls that started more than 1ms after
	// they were due. BehindBusyRatio is the part of it that waited mostly
	// for a free connection (every connection busy: a slow target, or too
	// few connections for its latency at this rate); the rest waited for
	// the generator itself (CPU, scheduling).
	BehindRatio     float64 `json:"behind_ratio"`
	BehindBusyRatio float64 `json:"behind_busy_ratio"`
	// DroppedCalls were due in the run but still waited for a connection
	// when it ended: never made, they lower AchievedRatio.
	DroppedCalls int64 `json:"dropped_calls"`
	// GeneratorCPUCores is the CPU this process used during the measured
	// run, in cores (CPU seconds per wall second), out of
	// GeneratorCPUCapacity (GOMAXPROCS).
	GeneratorCPUCores    float64 `json:"generator_cpu_cores"`
	GeneratorCPUCapacity float64 `json:"generator_cpu_capacity"`
	// GeneratorCPUWaitSeconds is how long the generator's threads were
	// ready to run but waited for a CPU other processes held, summed over
	// its threads (Linux schedstat; 0 where unknown): the cause when calls
	// go out late on an oversubscribed machine.
	GeneratorCPUWaitSeconds float64 `json:"generator_cpu_wait_s"`
	// GeneratorRealtime is true when the calls were made at real-time
	// priority (a fixed-rate HTTP/1.1 run where the process may).
	GeneratorRealtime bool     `json:"generator_realtime"`
	Valid             bool     `json:"valid"`
	InvalidReasons    []string `json:"invalid_reasons"`
	Warnings          []string `json:"warnings"`
}

// countCalls sets the call and error counts, and their ratio, from fortio's
// duration histograms (all calls, and the failed ones).
func (s *Summary) countCalls(all, failed *stats.HistogramData) {
	if all != nil {
		s.Requests = all.Count
	}
	if failed != nil {
		s.Errors = failed.Count
	}
	if s.Requests > 0 {
		s.ErrorRatio = float64(s.Errors) / float64(s.Requests)
	}
}

func codesFromHTTP(m map[int]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for code, n := range m {
		out[strconv.Itoa(code)] = n
	}
	return out
}

func codesFromGRPC(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for code, n := range m {
		out[code] = n
	}
	return out
}

// Line is a one-line human summary of s.
func (s Summary) Line() string {
	rate := "max"
	if !s.MaxRate {
		rate = fmt.Sprintf("%.0f", s.RequestedQPS)
	}
	line := fmt.Sprintf("%s qps requested, %.1f achieved, p50 %.3fms p90 %.3fms p99 %.3fms p99.9 %.3fms",
		rate, s.ActualQPS, s.LatencyMs.P50, s.LatencyMs.P90, s.LatencyMs.P99, s.LatencyMs.P999)
	if s.IntendedLatencyMs != nil {
		line += fmt.Sprintf(", intended p99 %.3fms", s.IntendedLatencyMs.P99)
	}
	return line + fmt.Sprintf(", errors %.2f%%, generator %.2f cores", 100*s.ErrorRatio, s.GeneratorCPUCores)
}
