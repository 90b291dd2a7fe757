package charts

import (
	"math"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/results"
)

// cpuChart plots each setting's valid steps (proxy cores against sidecar RPS)
// with its fitted line drawn from the fit's intercept and slope across the
// rates it measured, and the overall fit the profile uses.
func cpuChart(in Input) (Chart, bool) {
	done := FinishedSteps(in.Sweep)
	sc := gocharts.NewScatter()
	sc.SetGlobalOptions(append(common("item"), valueAxisX("sidecar RPS (all requests through the proxy)"), valueAxisY("proxy CPU (cores)"))...)
	lines := gocharts.NewLine()
	any := false
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range Settings(in.Sweep) {
		mine := valid(stepsAt(done, s))
		if len(mine) == 0 {
			continue
		}
		any = true
		var xy [][2]float64
		minX, maxX := math.Inf(1), math.Inf(-1)
		for _, st := range mine {
			xy = append(xy, [2]float64{st.SidecarRPS, st.ProxyCPUCores})
			minX, maxX = math.Min(minX, st.SidecarRPS), math.Max(maxX, st.SidecarRPS)
		}
		lo, hi = math.Min(lo, minX), math.Max(hi, maxX)
		sc.AddSeries(SettingLabel(s), scatterPoints(xy), itemColor(colorOf(i)),
			gocharts.WithScatterChartOpts(opts.ScatterChart{SymbolSize: 9}))
		// The line shares the points' name, hence their legend entry and colour.
		if f := in.Fit.ForSetting(s); f != nil && f.CPU != nil && maxX > minX {
			at := func(x float64) float64 { return f.CPU.IdleCores + f.CPU.CoresPerKRPS*x/1000 }
			lines.AddSeries(SettingLabel(s), points([][2]float64{{minX, at(minX)}, {maxX, at(maxX)}}),
				lineStyle(colorOf(i), "solid"), itemColor(colorOf(i)),
				gocharts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}))
		}
	}
	if !any {
		return Chart{}, false
	}
	if in.Fit != nil && hi > lo {
		o := in.Fit.Overall
		at := func(x float64) float64 { return o.IdleCores + o.CoresPerKRPS*x/1000 }
		lines.AddSeries("overall fit (unthrottled steps)", points([][2]float64{{lo, at(lo)}, {hi, at(hi)}}),
			lineStyle(baselineColor, "dashed"), itemColor(baselineColor),
			gocharts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}))
	}
	if inv := invalidCPUPoints(done); len(inv) > 0 {
		sc.AddSeries("invalid steps (not fitted)", scatterPoints(inv), itemColor(invalidColor),
			gocharts.WithScatterChartOpts(opts.ScatterChart{Symbol: "emptyCircle", SymbolSize: 8}))
	}
	sc.Overlap(lines)
	caption := "Each point is a valid step; lines are the least-squares fits (idle cores + cores per 1000 RPS x RPS) over the rates each setting measured."
	if in.Fit == nil {
		caption = "Each point is a valid step. No fitted lines: " + in.WhyNotFitted()
	}
	return newChart("chart-cpu", "Proxy CPU against sidecar RPS", caption, sc), true
}

func invalidCPUPoints(steps []results.Step) [][2]float64 {
	var out [][2]float64
	for _, st := range steps {
		if st.Status != results.StatusOK && st.SidecarRPS > 0 && st.ProxyCPUCores > 0 {
			out = append(out, [2]float64{st.SidecarRPS, st.ProxyCPUCores})
		}
	}
	return out
}
