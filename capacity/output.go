package capacity

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/model"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Header is the report's first lines: what was read and how.
func Header(r *Report) []string {
	ns := "every namespace"
	if len(r.Namespaces) > 0 {
		ns = "namespace(s) " + strings.Join(r.Namespaces, ", ")
	}
	t := r.Telemetry
	k8s := r.Kubernetes
	if k8s == "" {
		k8s = "version unknown"
	}
	return []string{
		fmt.Sprintf("Capacity plan of %d workload(s) in %s (Kubernetes %s)", len(r.Workloads), ns, k8s),
		fmt.Sprintf("Telemetry: %s ending %s; peak = %s, per pod", t.Window, t.At.UTC().Format(time.RFC3339), t.PeakRule),
		fmt.Sprintf("Prometheus: %d PromQL queries (a fixed set, whatever the fleet's size)", t.QueriesSent),
		fmt.Sprintf("Profile: %s (%s, %s)", r.Profile.Name, r.Profile.Kind, r.Profile.Proxy),
	}
}

// WriteTable writes the plan for a terminal: the workloads, the fleet by
// namespace, the model against reality, the risks and the notes.
func WriteTable(w io.Writer, r *Report) error {
	for _, l := range Header(r) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tPODS\tHPA\tIN RPS/POD\tREQ/CALL\tSIDECAR RPS/POD\tCPU NOW\tUSED\tPREDICTED\tERROR\tCPU REC\tMEM NOW\tMEM MAX\tMEM REC\tCONC\tCLUSTERS\tRISKS")
	for _, wr := range r.Workloads {
		fmt.Fprintln(tw, strings.Join(TableRow(wr), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tSIZED\tPODS\tCPU REQUESTED\tRECOMMENDED\tUSED AT PEAK\tSAVING\tMEMORY REQUESTED\tRECOMMENDED\tUSED (MAX)\tSAVING\tSCOPED SIDECARS SAVE")
	for _, t := range append(r.ByNamespace, withName(r.Total, "total")) {
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Namespace, t.Sized, t.Workloads, t.Pods,
			cores(t.CPURequestedMillicores), cores(t.CPURecommendedMillicores), usedCores(t), cores(t.CPUSavingMillicores),
			mib(t.MemoryRequestedBytes), mib(t.MemoryRecommendedBytes), usedMemory(t), mib(t.MemorySavingBytes), mib(t.ScopedSidecarSavingBytes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "MODEL AGAINST REALITY")
	for _, l := range modelLines(r.Model) {
		fmt.Fprintln(w, "  "+l)
	}
	section(w, "RISKS", riskLines(r.Risks))
	section(w, "NOT SIZED FROM TRAFFIC", notSized(r.Workloads))
	section(w, "NOTES", append(append([]string{}, r.Notes...), workloadNotes(r.Workloads)...))
	section(w, "ASSUMPTIONS", r.Assumptions)
	return nil
}

// WriteSummary is the one paragraph of a run that wrote every format into
// files: the fleet's totals, then each file written.
func WriteSummary(w io.Writer, r *Report, written []string) {
	fmt.Fprintf(w, "Capacity plan of %d workload(s): %d sized; CPU requested %.2f cores, recommended %.2f; memory requested %.0f MiB, recommended %.0f MiB\n",
		len(r.Workloads), r.Total.Sized, r.Total.CPURequestedMillicores/1000, r.Total.CPURecommendedMillicores/1000,
		r.Total.MemoryRequestedBytes/(1<<20), r.Total.MemoryRecommendedBytes/(1<<20))
	for _, p := range written {
		fmt.Fprintf(w, "  %s\n", p)
	}
}

func withName(t Totals, name string) Totals {
	t.Namespace = name
	return t
}

func section(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, title)
	for _, l := range lines {
		fmt.Fprintln(w, "  - "+l)
	}
}

// TableRow is a workload's row of the table: workload, pods, HPA, inbound
// RPS per pod, requests per call, sidecar RPS per pod, CPU now, used,
// predicted, error, CPU recommended, memory now, max, recommended,
// concurrency, clusters (now/scoped) and risks.
func TableRow(wr WorkloadReport) []string {
	l, c := wr.Load, wr.Current
	row := []string{wr.ID(), strconv.Itoa(int(l.Replicas)), hpaText(l)}
	if wr.Recommendation == nil {
		return append(row, "-", "-", "-", cpu(float64(c.CPURequestMillicores)), opt(c.CPUAtPeakMillicores, cpu), "-", "-", "("+wr.Status+")",
			bytesOrNone(c.MemoryRequestBytes), opt(c.MemoryMaxBytes, mib), "-", concNow(c), clusters(wr.Config), riskKinds(wr.Risks))
	}
	rec := wr.Recommendation
	predicted, errText := "-", "-"
	if m := wr.Model; m != nil {
		predicted, errText = fmt.Sprintf("%.0fm", m.PredictedMillicores), fmt.Sprintf("%+.0f%%", m.Error*100)
	}
	return append(row, num(l.InboundRPSPerPodAtPeak), fmt.Sprintf("%.2f", l.Hops.Total), num(l.SidecarRPSPerPodAtPeak),
		cpu(float64(c.CPURequestMillicores)), opt(c.CPUAtPeakMillicores, cpu), predicted, errText, quantity.Millicores(rec.CPURequestMillicores),
		bytesOrNone(c.MemoryRequestBytes), opt(c.MemoryMaxBytes, mib), quantity.Bytes(rec.MemoryRequestBytes),
		concNow(c)+"->"+strconv.Itoa(rec.Concurrency), clusters(wr.Config), riskKinds(wr.Risks))
}

func hpaText(l Load) string {
	if !l.HasHPA {
		return "-"
	}
	if l.HPAMetric == HPAResource {
		return fmt.Sprintf("%d-%d@%d%%", l.HPAMin, l.HPAMax, l.HPATarget)
	}
	return fmt.Sprintf("%d-%d %s", l.HPAMin, l.HPAMax, l.HPAMetric)
}

func concNow(c Current) string {
	if !c.ConcurrencyKnown {
		return "?"
	}
	return strconv.Itoa(c.Concurrency)
}

func clusters(c ConfigReport) string {
	if !c.Known {
		return "?"
	}
	if !c.ScopedKnown {
		return strconv.Itoa(c.Clusters)
	}
	return fmt.Sprintf("%d/%d", c.Clusters, c.ScopedClusters)
}

func riskKinds(rs []Risk) string {
	if len(rs) == 0 {
		return "-"
	}
	var kinds []string
	for _, r := range rs {
		if len(kinds) == 0 || kinds[len(kinds)-1] != r.Kind {
			kinds = append(kinds, r.Kind)
		}
	}
	return strings.Join(kinds, ",")
}

func modelLines(m FleetModelCheck) []string {
	out := []string{m.Verdict}
	if m.Workloads == 0 {
		return out
	}
	profile := fmt.Sprintf("%.3f idle + %.3f cores per 1000 sidecar RPS", m.ProfileFit.IdleCores, m.ProfileFit.CoresPerKRPS)
	if m.ProfileFit.Model() != model.ModelLine {
		// A concave profile's coefficient is its first 1000 RPS, not a
		// cost per 1000 RPS.
		profile = "the concave curve " + m.ProfileFit.Formula() + " cores at sidecar RPS"
	}
	if m.Fit != nil {
		out = append(out, fmt.Sprintf("the fleet's own line through its %d measured peaks: %.3f idle + %.3f cores per 1000 sidecar RPS (R² %.2f); the profile's: %s",
			m.Workloads, m.Fit.IdleCores, m.Fit.CoresPerKRPS, m.FitR2, profile))
	}
	return out
}

func riskLines(rs []Risk) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s: %s: %s", r.Kind, r.Workload, r.Detail))
	}
	return out
}

func notSized(ws []WorkloadReport) []string {
	var out []string
	for _, w := range ws {
		if w.Recommendation == nil {
			out = append(out, w.ID()+": "+w.StatusReason)
		} else if w.Status == StatusIdle {
			out = append(out, w.ID()+": "+w.StatusReason)
		}
	}
	return out
}

func workloadNotes(ws []WorkloadReport) []string {
	var out []string
	for _, w := range ws {
		for _, n := range w.Notes {
			out = append(out, w.ID()+": "+n)
		}
	}
	return out
}

// num prints a rate without needless decimals: 783, 12.5, 0.25.
func num(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func cpu(m float64) string {
	if m <= 0 {
		return "none"
	}
	return fmt.Sprintf("%.0fm", m)
}

// cores prints a fleet's CPU in cores.
func cores(m float64) string { return fmt.Sprintf("%.2f", m/1000) }

func mib(b float64) string { return fmt.Sprintf("%.1fMi", b/(1<<20)) }

func bytesOrNone(b int64) string {
	if b <= 0 {
		return "none"
	}
	return quantity.Bytes(b)
}

func opt(v *float64, f func(float64) string) string {
	if v == nil {
		return "?"
	}
	return f(*v)
}

func usedCores(t Totals) string {
	if t.Measured == 0 {
		return "?"
	}
	s := cores(t.CPUUsedMillicores)
	if t.Measured < t.Sized {
		s += fmt.Sprintf(" (%d measured)", t.Measured)
	}
	return s
}

func usedMemory(t Totals) string {
	if t.Measured == 0 {
		return "?"
	}
	return mib(t.MemoryUsedBytes)
}

// CSVHeader names the columns of WriteCSV; the names are a contract.
var CSVHeader = []string{
	"kind", "namespace", "workload", "status", "replicas", "hpa_min", "hpa_max", "hpa_target_percent",
	"inbound_rps_per_pod_at_peak", "outbound_per_inbound", "authz_per_inbound", "retries_per_inbound", "requests_per_inbound",
	"sidecar_rps_per_pod_at_peak", "cpu_request_m", "cpu_limit_m", "memory_request_bytes", "concurrency",
	"cpu_at_peak_m", "throttled_at_peak", "memory_max_bytes", "predicted_cpu_m", "model_error",
	"recommended_cpu_request_m", "recommended_cpu_limit_m", "recommended_memory_request_bytes", "recommended_memory_limit_bytes",
	"recommended_concurrency", "hpa_manifest_target_percent", "clusters", "endpoints", "scoped_clusters", "scoped_endpoints",
	"scoped_memory_saving_bytes", "cpu_saving_m", "memory_saving_bytes", "risks",
}

// WriteCSV writes one row per workload; an unknown figure is an empty cell.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(round4(x), 'f', -1, 64) }
	p := func(x *float64) string {
		if x == nil {
			return ""
		}
		return f(*x)
	}
	i := func(x int64) string { return strconv.FormatInt(x, 10) }
	for _, wr := range r.Workloads {
		l, c := wr.Load, wr.Current
		row := []string{wr.Kind, wr.Namespace, wr.Name, wr.Status, i(int64(l.Replicas)), "", "", "",
			f(l.InboundRPSPerPodAtPeak), f(l.Hops.Outbound), f(l.Hops.Authz), f(l.Hops.Retries), f(l.Hops.Total),
			f(l.SidecarRPSPerPodAtPeak), i(c.CPURequestMillicores), i(c.CPULimitMillicores), i(c.MemoryRequestBytes), "",
			p(c.CPUAtPeakMillicores), p(c.ThrottledAtPeak), p(c.MemoryMaxBytes), "", "",
			"", "", "", "", "", "", "", "", "", "", f(wr.Config.MemorySavedBytes), "", "", riskKinds(wr.Risks)}
		if l.HasHPA {
			row[5], row[6], row[7] = i(int64(l.HPAMin)), i(int64(l.HPAMax)), strconv.Itoa(l.HPATarget)
		}
		if c.ConcurrencyKnown {
			row[17] = strconv.Itoa(c.Concurrency)
		}
		if m := wr.Model; m != nil {
			row[21], row[22] = f(m.PredictedMillicores), f(m.Error)
		}
		if rec := wr.Recommendation; rec != nil {
			row[23], row[24], row[25], row[26], row[27] = i(rec.CPURequestMillicores), i(rec.CPULimitMillicores),
				i(rec.MemoryRequestBytes), i(rec.MemoryLimitBytes), strconv.Itoa(rec.Concurrency)
			if rec.HPA != nil {
				row[28] = strconv.Itoa(int(rec.HPA.ManifestTargetPercent))
			}
			row[34], row[35] = f(wr.Totals.CPUSaving()), f(wr.Totals.MemorySaving())
		}
		if wr.Config.Known {
			row[29], row[30] = strconv.Itoa(wr.Config.Clusters), strconv.Itoa(wr.Config.Endpoints)
		}
		if wr.Config.ScopedKnown {
			row[31], row[32] = strconv.Itoa(wr.Config.ScopedClusters), strconv.Itoa(wr.Config.ScopedEndpoints)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// WriteMarkdown writes the plan as Markdown: the header, the fleet by
// namespace, the workloads, the model against reality, the risks and notes.
func WriteMarkdown(w io.Writer, r *Report) error {
	fmt.Fprintln(w, "# Sidecar capacity plan")
	fmt.Fprintln(w)
	for _, l := range Header(r) {
		fmt.Fprintln(w, "- "+mdEscape(l))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Fleet")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| namespace | sized | pods | CPU requested (cores) | recommended | used at peak | saving | memory requested | recommended | used (max) | saving | scoped Sidecars save |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, t := range append(r.ByNamespace, withName(r.Total, "**total**")) {
		fmt.Fprintf(w, "| %s | %d/%d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(t.Namespace), t.Sized, t.Workloads, t.Pods,
			cores(t.CPURequestedMillicores), cores(t.CPURecommendedMillicores), usedCores(t), cores(t.CPUSavingMillicores),
			mib(t.MemoryRequestedBytes), mib(t.MemoryRecommendedBytes), usedMemory(t), mib(t.MemorySavingBytes), mib(t.ScopedSidecarSavingBytes))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Workloads")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | pods | HPA | inbound RPS/pod | requests/call | sidecar RPS/pod | CPU now | used | predicted | error | CPU rec | memory now | max | memory rec | concurrency | clusters (now/scoped) | risks |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
	for _, wr := range r.Workloads {
		cells := TableRow(wr)
		for i := range cells {
			cells[i] = mdEscape(cells[i])
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Model against reality")
	fmt.Fprintln(w)
	for _, l := range modelLines(r.Model) {
		fmt.Fprintln(w, "- "+mdEscape(l))
	}
	mdSection(w, "Risks", riskLines(r.Risks))
	mdSection(w, "Not sized from traffic", notSized(r.Workloads))
	mdSection(w, "Notes", append(append([]string{}, r.Notes...), workloadNotes(r.Workloads)...))
	mdSection(w, "Assumptions", r.Assumptions)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Queries")
	fmt.Fprintln(w)
	for _, q := range r.Telemetry.Queries {
		fmt.Fprintf(w, "- **%s** (%s):\n\n  ```promql\n  %s\n  ```\n", q.Name, mdEscape(q.Figure), q.Expr)
	}
	return nil
}

func mdSection(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## %s\n\n", title)
	for _, l := range lines {
		fmt.Fprintln(w, "- "+mdEscape(l))
	}
}

// mdEscape keeps text from the cluster (names, annotations) from breaking
// a Markdown table or starting markup.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ")
	return r.Replace(s)
}
