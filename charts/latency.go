package charts

import (
	"sort"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
)

// percentile picks one latency percentile, from the actual send (service
// time) or from the intended send time (free of coordinated omission).
type percentile struct {
	name     string
	intended bool
	of       func(results.Latency) float64
}

var (
	p50         = percentile{name: "p50", of: func(l results.Latency) float64 { return l.P50 }}
	p99         = percentile{name: "p99", of: func(l results.Latency) float64 { return l.P99 }}
	p99Intended = percentile{name: "p99", intended: true, of: func(l results.Latency) float64 { return l.P99 }}
)

// latency is the step's latency as p reads it; false when it was not
// recorded (intended latency before it was).
func (p percentile) latency(st results.Step) (float64, bool) {
	if !p.intended {
		return p.of(st.LatencyMs), true
	}
	if st.IntendedLatencyMs == nil {
		return 0, false
	}
	return p.of(*st.IntendedLatencyMs), true
}

func (p percentile) baseline(r results.Run) (float64, bool) {
	if !p.intended {
		return p.of(r.LatencyMs), true
	}
	if r.IntendedLatencyMs == nil {
		return 0, false
	}
	return p.of(*r.IntendedLatencyMs), true
}

func (p percentile) id() string {
	if p.intended {
		return "chart-latency-" + p.name + "-intended"
	}
	return "chart-latency-" + p.name
}

// latencyChart plots one percentile against the inbound rate: the baseline
// straight to the app, and each setting through the proxy (valid steps),
// the repeats of a rate as their median with a band from their minimum to
// their maximum.
func latencyChart(in Input, p percentile) (Chart, bool) {
	line := gocharts.NewLine()
	line.SetGlobalOptions(append(common("item"), valueAxisX("inbound RPS (requested)"), valueAxisY(p.name+" latency (ms)"))...)
	any := false
	if base := baselinePoints(in.Sweep.Baseline, p); len(base) > 0 {
		any = true
		line.AddSeries("baseline, no proxy", points(base), lineStyle(baselineColor, "dashed"), itemColor(baselineColor))
	}
	done := FinishedSteps(in.Sweep)
	for i, s := range Settings(in.Sweep) {
		med, lo, hi := repeatsAt(valid(stepsAt(done, s)), p)
		if len(med) == 0 {
			continue
		}
		any = true
		line.AddSeries(SettingLabel(s), points(med), lineStyle(colorOf(i), "solid"), itemColor(colorOf(i)))
		if spread(lo, hi) {
			addBand(line, SettingLabel(s)+" min-max of repeats", lo, hi, colorOf(i))
		}
	}
	if !any {
		return Chart{}, false
	}
	title := p.name + " latency against load, without and through " + ProxyLabel(in.Sweep.Proxy)
	caption := "Latency from each call's actual send (service time), in milliseconds; the gap between a setting and the baseline is what the proxy (and its extra hops) adds. Lines join the median of a rate's repeats; the translucent bar at each rate spans their minimum to maximum."
	if p.intended {
		title = p.name + " latency from intended send times, without and through " + ProxyLabel(in.Sweep.Proxy)
		caption = "Latency from each call's intended send time in the schedule, in milliseconds: it counts the time calls waited behind a slow one, which service time omits (coordinated omission). Lines join the median of a rate's repeats; the translucent bar at each rate spans their minimum to maximum."
	}
	return newChart(p.id(), title, caption, line), true
}

// repeatsAt groups steps by requested rate: the median latency of each
// rate's repeats, and their minimum and maximum.
func repeatsAt(steps []results.Step, p percentile) (med, lo, hi [][2]float64) {
	byRate := map[float64][]float64{}
	for _, st := range steps {
		if v, ok := p.latency(st); ok {
			byRate[st.RequestedRPS] = append(byRate[st.RequestedRPS], v)
		}
	}
	rates := make([]float64, 0, len(byRate))
	for r := range byRate {
		rates = append(rates, r)
	}
	sort.Float64s(rates)
	for _, r := range rates {
		vs := byRate[r]
		sort.Float64s(vs)
		med = append(med, [2]float64{r, round(model.Median(vs))})
		lo = append(lo, [2]float64{r, round(vs[0])})
		hi = append(hi, [2]float64{r, round(vs[len(vs)-1])})
	}
	return med, lo, hi
}

func spread(lo, hi [][2]float64) bool {
	for i := range lo {
		if hi[i][1] > lo[i][1] {
			return true
		}
	}
	return false
}

// addBand draws, at each rate, the span of its repeats from the minimum to
// the maximum as a wide translucent bar behind the median: a band that
// ECharts cannot mis-stack (on two value axes it stacks x, not y).
func addBand(line *gocharts.Line, name string, lo, hi [][2]float64, color string) {
	var data []opts.LineData
	for i := range lo {
		data = append(data, opts.LineData{Value: []float64{lo[i][0], lo[i][1]}}, opts.LineData{Value: []float64{hi[i][0], hi[i][1]}}, opts.LineData{Value: nil})
	}
	line.AddSeries(name, data,
		gocharts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), ConnectNulls: opts.Bool(false)}),
		gocharts.WithLineStyleOpts(opts.LineStyle{Color: color, Width: 9, Opacity: opts.Float(0.25)}), itemColor(color))
}

// baselinePoints is one point per baseline rate: the median of its valid
// runs, or of all its runs when none was valid (a busy machine rejects many).
func baselinePoints(runs []results.Run, p percentile) [][2]float64 {
	byRate := map[float64][]results.Run{}
	var rates []float64
	for _, r := range runs {
		if _, ok := byRate[r.RequestedRPS]; !ok {
			rates = append(rates, r.RequestedRPS)
		}
		byRate[r.RequestedRPS] = append(byRate[r.RequestedRPS], r)
	}
	sort.Float64s(rates)
	var out [][2]float64
	for _, rate := range rates {
		var vals, validVals []float64
		for _, r := range byRate[rate] {
			v, ok := p.baseline(r)
			if !ok {
				continue
			}
			vals = append(vals, v)
			if r.Valid {
				validVals = append(validVals, v)
			}
		}
		if len(validVals) > 0 {
			vals = validVals
		}
		if len(vals) > 0 {
			out = append(out, [2]float64{rate, round(model.Median(vals))})
		}
	}
	return out
}
