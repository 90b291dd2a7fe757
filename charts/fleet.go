package charts

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/capacity"
)

//go:embed fleet.html.tmpl
var fleetTemplate string

var fleetTmpl = template.Must(template.New("capacity").Funcs(template.FuncMap{
	"cores": func(m float64) float64 { return m / 1000 },
	"mib":   func(b float64) float64 { return b / (1 << 20) },
}).Parse(fleetTemplate))

// fleetView is what the capacity page's template reads; like the sweep's
// page, every text reaches it as a plain string for html/template to escape.
type fleetView struct {
	Title     string
	Header    []string
	Generated string
	Charts    []Chart
	Specs     []spec
	Missing   []string
	Totals    []capacity.Totals
	Total     capacity.Totals
	Workloads []fleetRow
	Model     []string
	Risks     []capacity.Risk
	NotSized  []string
	Notes     []string
	Queries   []queryRow
	ECharts   template.JS
	Script    template.JS
	Style     template.CSS
}

type fleetRow struct {
	ID, Status, Pods, InPerPod, Hops, SidecarPerPod                   string
	CPUNow, CPUUsed, CPUPredicted, CPUError, CPURec                   string
	MemNow, MemMax, MemRec, Concurrency, Clusters, Risks, HPA, Reason string
}

type queryRow struct{ Name, Figure, Expr string }

// FleetCharts builds the capacity page's charts and names those it has no
// data for: the distribution of sidecar RPS per pod, CPU and memory
// requested against recommended and used by namespace, the top savings,
// the risks, and the model against the measurements.
func FleetCharts(r *capacity.Report) (built []Chart, missing []string) {
	var set chartSet
	add := set.add
	c, ok := rpsDistribution(r)
	add("sidecar RPS per pod (no workload sized from its traffic)", c, ok)
	c, ok = namespaceCPU(r)
	add("CPU by namespace (no workload sized)", c, ok)
	c, ok = namespaceMemory(r)
	add("memory by namespace (no workload sized)", c, ok)
	c, ok = topSavings(r)
	add("top savings (no workload sized)", c, ok)
	c, ok = riskChart(r)
	add("risks (none found)", c, ok)
	c, ok = modelChart(r)
	add("model against reality (no workload with both traffic and cAdvisor series)", c, ok)
	return set.built, set.missing
}

// RenderCapacity writes the capacity plan's report.html.
func RenderCapacity(w io.Writer, r *capacity.Report) error {
	script, err := Script()
	if err != nil {
		return err
	}
	generated := r.GeneratedAt
	if generated.IsZero() {
		generated = time.Now()
	}
	v := fleetView{Title: "Sidecar capacity plan", Header: capacity.Header(r), Generated: generated.UTC().Format(time.RFC3339),
		Totals: r.ByNamespace, Total: r.Total, Risks: r.Risks, Notes: r.Notes,
		ECharts: template.JS(script), Script: template.JS(pageScript), Style: template.CSS(pageStyle)}
	v.Charts, v.Missing = FleetCharts(r)
	for _, c := range v.Charts {
		v.Specs = append(v.Specs, spec{ID: c.ID, Option: c.Option})
	}
	v.Model = []string{r.Model.Verdict}
	if f := r.Model.Fit; f != nil {
		v.Model = append(v.Model, fmt.Sprintf("The fleet's own line through %d measured peaks: %.3f idle + %.3f cores per 1000 sidecar RPS (R² %.2f); the profile's: %.3f + %.3f.",
			r.Model.Workloads, f.IdleCores, f.CoresPerKRPS, r.Model.FitR2, r.Model.ProfileFit.IdleCores, r.Model.ProfileFit.CoresPerKRPS))
	}
	for _, wr := range r.Workloads {
		v.Workloads = append(v.Workloads, row(wr))
		if wr.Recommendation == nil || wr.Status == capacity.StatusIdle {
			v.NotSized = append(v.NotSized, wr.ID()+": "+wr.StatusReason)
		}
		for _, n := range wr.Notes {
			v.Notes = append(v.Notes, wr.ID()+": "+n)
		}
	}
	for _, q := range r.Telemetry.Queries {
		v.Queries = append(v.Queries, queryRow{q.Name, q.Figure, q.Expr})
	}
	var buf bytes.Buffer
	if err := fleetTmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func row(wr capacity.WorkloadReport) fleetRow {
	cells := capacity.TableRow(wr)
	// TableRow's columns: workload, pods, hpa, in/pod, req/call, sidecar/pod, cpu now, used, predicted,
	// error, cpu rec, mem now, mem max, mem rec, concurrency, clusters, risks.
	return fleetRow{ID: cells[0], Pods: cells[1], HPA: cells[2], InPerPod: cells[3], Hops: cells[4], SidecarPerPod: cells[5],
		CPUNow: cells[6], CPUUsed: cells[7], CPUPredicted: cells[8], CPUError: cells[9], CPURec: cells[10],
		MemNow: cells[11], MemMax: cells[12], MemRec: cells[13], Concurrency: cells[14], Clusters: cells[15], Risks: cells[16],
		Status: wr.Status, Reason: wr.StatusReason}
}

// rpsBuckets are the sidecar RPS per pod the distribution counts pods in:
// a decade split at 1, 3 and 10.
var rpsBuckets = []float64{0, 10, 30, 100, 300, 1000, 3000, 10000}

func bucketLabel(i int) string {
	if i == len(rpsBuckets)-1 {
		return fmt.Sprintf(">= %g", rpsBuckets[i])
	}
	return fmt.Sprintf("%g-%g", rpsBuckets[i], rpsBuckets[i+1])
}

func rpsDistribution(r *capacity.Report) (Chart, bool) {
	pods := make([]float64, len(rpsBuckets))
	workloads := make([]float64, len(rpsBuckets))
	any := false
	for _, wr := range r.Workloads {
		if wr.Status != capacity.StatusSized {
			continue
		}
		any = true
		i := sort.SearchFloat64s(rpsBuckets, wr.Load.SidecarRPSPerPodAtPeak+1e-9) - 1
		i = max(0, min(i, len(rpsBuckets)-1))
		pods[i] += float64(wr.Load.Replicas)
		workloads[i]++
	}
	if !any {
		return Chart{}, false
	}
	labels := make([]string, len(rpsBuckets))
	for i := range labels {
		labels[i] = bucketLabel(i)
	}
	bar := gocharts.NewBar()
	bar.SetGlobalOptions(append(common("axis"),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "sidecar RPS per pod at the peak", NameLocation: "middle", NameGap: 30}),
		valueAxisY("pods"))...)
	bar.SetXAxis(labels)
	bar.AddSeries("pods", barData(pods), itemColor(colorOf(0)))
	bar.AddSeries("workloads", barData(workloads), itemColor(colorOf(1)))
	return newChart("chart-rps", "Sidecar RPS per pod at the peak",
		"How many pods (and workloads) carry each rate through their sidecar at the peak: inbound requests per pod x the requests each inbound call causes.", bar), true
}

func barData(xs []float64) []opts.BarData {
	out := make([]opts.BarData, len(xs))
	for i, x := range xs {
		out[i] = opts.BarData{Value: round(x)}
	}
	return out
}

func namespaceBars(r *capacity.Report, id, title, unit, caption string, scale float64, pick func(capacity.Totals) (req, rec, used float64)) (Chart, bool) {
	if r.Total.Sized == 0 {
		return Chart{}, false
	}
	var names []string
	var req, rec, used []float64
	for _, t := range r.ByNamespace {
		if t.Sized == 0 {
			continue
		}
		a, b, c := pick(t)
		names = append(names, t.Namespace)
		req, rec, used = append(req, a/scale), append(rec, b/scale), append(used, c/scale)
	}
	bar := gocharts.NewBar()
	bar.SetGlobalOptions(append(common("axis"), gocharts.WithXAxisOpts(opts.XAxis{Type: "category"}), valueAxisY(unit))...)
	bar.SetXAxis(names)
	bar.AddSeries("requested now", barData(req), itemColor(colorOf(3)))
	bar.AddSeries("recommended", barData(rec), itemColor(colorOf(2)))
	bar.AddSeries("used at the peak", barData(used), itemColor(colorOf(0)))
	return newChart(id, title, caption, bar), true
}

func namespaceCPU(r *capacity.Report) (Chart, bool) {
	return namespaceBars(r, "chart-ns-cpu", "Sidecar CPU by namespace", "cores",
		"Sidecar CPU requests now, recommended, and used at the peak, times each workload's replicas, over the sized workloads.", 1000,
		func(t capacity.Totals) (float64, float64, float64) {
			return t.CPURequestedMillicores, t.CPURecommendedMillicores, t.CPUUsedMillicores
		})
}

func namespaceMemory(r *capacity.Report) (Chart, bool) {
	return namespaceBars(r, "chart-ns-memory", "Sidecar memory by namespace", "MiB",
		"Sidecar memory requests now, recommended, and the largest working set measured, times each workload's replicas.", 1<<20,
		func(t capacity.Totals) (float64, float64, float64) {
			return t.MemoryRequestedBytes, t.MemoryRecommendedBytes, t.MemoryUsedBytes
		})
}

// topSavingsShown is how many workloads the savings chart ranks.
const topSavingsShown = 15

func topSavings(r *capacity.Report) (Chart, bool) {
	var sized []capacity.WorkloadReport
	for _, wr := range r.Workloads {
		if wr.Recommendation != nil {
			sized = append(sized, wr)
		}
	}
	if len(sized) == 0 {
		return Chart{}, false
	}
	slices.SortStableFunc(sized, func(a, b capacity.WorkloadReport) int {
		return cmpDesc(math.Abs(a.Totals.CPUSaving()), math.Abs(b.Totals.CPUSaving()))
	})
	sized = sized[:min(len(sized), topSavingsShown)]
	slices.Reverse(sized) // the largest on top of a horizontal bar chart
	var names []string
	var cpu, mem []float64
	for _, wr := range sized {
		names = append(names, wr.Namespace+"/"+wr.Name)
		cpu = append(cpu, wr.Totals.CPUSaving()/1000)
		mem = append(mem, wr.Totals.MemorySaving()/(1<<30))
	}
	bar := gocharts.NewBar()
	bar.SetGlobalOptions(append(common("axis"),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "saving (negative: needs more)", NameLocation: "middle", NameGap: 30}),
		gocharts.WithYAxisOpts(opts.YAxis{Type: "category"}))...)
	bar.SetXAxis(names)
	bar.AddSeries("CPU, cores", barData(cpu), itemColor(colorOf(2)))
	bar.AddSeries("memory, GiB", barData(mem), itemColor(colorOf(4)))
	bar.XYReversal()
	return newChart("chart-savings", "Top savings",
		fmt.Sprintf("The %d workloads whose sidecar CPU requests change most: requested now minus recommended, times replicas.", len(sized)), bar), true
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func riskChart(r *capacity.Report) (Chart, bool) {
	if len(r.Risks) == 0 {
		return Chart{}, false
	}
	counts := make([]float64, len(capacity.RiskKinds))
	for _, rk := range r.Risks {
		counts[slices.Index(capacity.RiskKinds, rk.Kind)]++
	}
	bar := gocharts.NewBar()
	bar.SetGlobalOptions(append(common("axis"), gocharts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Interval: "0", FontSize: 11}}),
		valueAxisY("workloads"))...)
	bar.SetXAxis(capacity.RiskKinds)
	bar.AddSeries("workloads at risk", barData(counts), itemColor(colorOf(3)))
	return newChart("chart-risks", "Risks",
		fmt.Sprintf("Throttled: at least %.0f%% of CFS periods at the peak; usage above the request; concurrency above ceil(CPU limit); a container without a CPU request under a Resource HPA; partial resource annotations.", capacity.ThrottledRiskRatio*100), bar), true
}

func modelChart(r *capacity.Report) (Chart, bool) {
	var xy [][2]float64
	top := 0.0
	for _, wr := range r.Workloads {
		if m := wr.Model; m != nil {
			xy = append(xy, [2]float64{round(m.MeasuredMillicores), round(m.PredictedMillicores)})
			top = math.Max(top, math.Max(m.MeasuredMillicores, m.PredictedMillicores))
		}
	}
	if len(xy) == 0 {
		return Chart{}, false
	}
	sc := gocharts.NewScatter()
	sc.SetGlobalOptions(append(common("item"), valueAxisX("measured sidecar CPU per pod at the peak (millicores)"),
		valueAxisY("predicted by the profile (millicores)"))...)
	sc.AddSeries("workloads", scatterPoints(xy), itemColor(colorOf(0)))
	line := gocharts.NewLine()
	line.AddSeries("predicted = measured", points([][2]float64{{0, 0}, {round(top), round(top)}}), lineStyle(baselineColor, "dashed"))
	sc.Overlap(line)
	return newChart("chart-model", "Model against reality",
		strings.TrimSpace(fmt.Sprintf("Each workload's sidecar CPU at the peak: the profile's prediction at its measured sidecar RPS against what cAdvisor measured. %s", r.Model.Verdict)), sc), true
}
