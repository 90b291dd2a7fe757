package charts

import (
	"sort"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
)

// percentile picks one latency percentile.
type percentile struct {
	name string
	of   func(results.Latency) float64
}

var (
	p50 = percentile{"p50", func(l results.Latency) float64 { return l.P50 }}
	p99 = percentile{"p99", func(l results.Latency) float64 { return l.P99 }}
)

// latencyChart plots one percentile against the inbound rate: the baseline
// straight to the app, and each setting through the proxy (valid steps).
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
		mine := valid(stepsAt(done, s))
		if len(mine) == 0 {
			continue
		}
		sort.Slice(mine, func(a, b int) bool { return mine[a].RequestedRPS < mine[b].RequestedRPS })
		var xy [][2]float64
		for _, st := range mine {
			xy = append(xy, [2]float64{st.RequestedRPS, round(p.of(st.LatencyMs))})
		}
		any = true
		line.AddSeries(SettingLabel(s), points(xy), lineStyle(colorOf(i), "solid"), itemColor(colorOf(i)))
	}
	if !any {
		return Chart{}, false
	}
	return newChart("chart-latency-"+p.name, p.name+" latency against load, without and through "+ProxyLabel(in.Sweep.Proxy),
		"Latency from the request's actual send time, in milliseconds; the gap between a setting and the baseline is what the proxy (and its extra hops) adds.", line), true
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
			vals = append(vals, p.of(r.LatencyMs))
			if r.Valid {
				validVals = append(validVals, p.of(r.LatencyMs))
			}
		}
		if len(validVals) > 0 {
			vals = validVals
		}
		out = append(out, [2]float64{rate, round(model.Median(vals))})
	}
	return out
}
