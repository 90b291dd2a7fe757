package report

import (
	"bytes"
	"encoding/csv"
	"strconv"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/results"
)

// csvColumns are the step's contract fields as sweep.json names them, nested
// latency objects flattened with their unit last (latency_p99_ms).
var csvColumns = []string{
	"index", "source", "status", "reason", "concurrency", "cpu_limit_millicores",
	"requested_rps", "actual_rps", "duration_s", "sidecar_rps", "proxy_requests_per_inbound",
	"proxy_cpu_cores", "proxy_cpu_seconds_per_1k_requests", "throttled_ratio", "memory_working_set_bytes",
	"latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_p999_ms", "latency_avg_ms", "latency_max_ms",
	"latency_added_p50_ms", "latency_added_p99_ms", "error_ratio", "fortio_file",
}

// StepsCSV is one row per finished step: the grid's, then the searches'.
func StepsCSV(rec *results.Sweep) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(csvColumns)
	grid := len(charts.FinishedSteps(&results.Sweep{Steps: rec.Steps}))
	for i, st := range charts.FinishedSteps(rec) {
		source := "grid"
		if i >= grid {
			source = "search"
		}
		added := []string{"", ""}
		if st.LatencyAddedMs != nil {
			added = []string{num(st.LatencyAddedMs.P50), num(st.LatencyAddedMs.P99)}
		}
		l := st.LatencyMs
		_ = w.Write(append([]string{
			strconv.Itoa(st.Index), source, st.Status, st.Reason, strconv.Itoa(st.Concurrency), strconv.FormatInt(st.CPULimitMillicores, 10),
			num(st.RequestedRPS), num(st.ActualRPS), num(st.DurationSeconds), num(st.SidecarRPS), num(st.ProxyRequestsPerInbound),
			num(st.ProxyCPUCores), num(st.ProxyCPUSecondsPer1kRequests), num(st.ThrottledRatio), strconv.FormatInt(st.MemoryWorkingSetBytes, 10),
			num(l.P50), num(l.P90), num(l.P99), num(l.P999), num(l.Avg), num(l.Max),
		}, append(added, num(st.ErrorRatio), st.FortioFile)...))
	}
	w.Flush()
	return buf.Bytes()
}

// num keeps 6 significant digits: the measurements are not more precise.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
