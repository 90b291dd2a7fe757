package charts

import (
	"math"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/results"
)

// cpuChart plots each setting's valid steps (proxy cores against sidecar
// RPS) with its chosen cost curve (solid) and the model not chosen
// (dotted) across the rates it measured, the 95% prediction interval of the
// chosen setting out to the peak, and the overall curve the profile uses.
func cpuChart(in Input) (Chart, bool) {
	done := FinishedSteps(in.Sweep)
	sc := gocharts.NewScatter()
	sc.SetGlobalOptions(append(common("item"), valueAxisX("sidecar RPS (all requests through the proxy)"), valueAxisY("proxy CPU (cores)"))...)
	lines := gocharts.NewLine()
	any := false
	lo, hi := math.Inf(1), math.Inf(-1)
	noSymbol := gocharts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)})
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
		// The curves share the points' name, hence their legend entry and colour.
		f := in.Fit.ForSetting(s)
		if f == nil || f.CPU == nil || maxX <= minX {
			continue
		}
		for _, m := range f.CPU.Models {
			if m.NotFitted != "" {
				continue
			}
			style := "dotted"
			if m.Model == f.CPU.Chosen {
				style = "solid"
			}
			lines.AddSeries(SettingLabel(s), points(sample(m.Cost.CoresAt, minX, maxX)), lineStyle(colorOf(i), style), itemColor(colorOf(i)), noSymbol)
		}
		if b := in.Recommendation.Best; b != nil && b.Setting == s && b.HasInterval {
			peak := in.Recommendation.PeakSidecarRPS
			top := math.Max(maxX, peak)
			for _, bound := range []func(float64) float64{
				func(x float64) float64 { iv, _ := b.Measured.Cost.PredictionInterval(x); return iv.High },
				func(x float64) float64 { iv, _ := b.Measured.Cost.PredictionInterval(x); return iv.Low },
			} {
				lines.AddSeries("95% prediction interval, "+SettingLabel(s), points(sample(bound, minX, top)),
					lineStyle(colorOf(i), "dashed"), itemColor(colorOf(i)), noSymbol)
			}
		}
	}
	if !any {
		return Chart{}, false
	}
	if in.Fit != nil && hi > lo {
		o := in.Fit.Overall.ChosenFit()
		lines.AddSeries("overall fit (unthrottled steps)", points(sample(o.Cost.CoresAt, lo, hi)),
			lineStyle(baselineColor, "dashed"), itemColor(baselineColor), noSymbol)
	}
	if inv := invalidCPUPoints(done); len(inv) > 0 {
		sc.AddSeries("invalid steps (not fitted)", scatterPoints(inv), itemColor(invalidColor),
			gocharts.WithScatterChartOpts(opts.ScatterChart{Symbol: "emptyCircle", SymbolSize: 8}))
	}
	sc.Overlap(lines)
	caption := "Each point is a valid step. Per setting, the solid curve is the model its leave-one-rate-out error chose (line or concave idle + a x (RPS/1000)^b), the dotted one the other; the dashed pair is the chosen setting's 95% prediction interval out to the peak, whose upper end is the CPU request."
	if in.Fit == nil {
		caption = "Each point is a valid step. No fitted curves: " + in.WhyNotFitted()
	}
	return newChart("chart-cpu", "Proxy CPU against sidecar RPS", caption, sc), true
}

// sample evaluates f at evenly spaced points from lo to hi: enough for a
// curve to look like one.
func sample(f func(float64) float64, lo, hi float64) [][2]float64 {
	const n = 24
	out := make([][2]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		x := lo + (hi-lo)*float64(i)/n
		out = append(out, [2]float64{math.Round(x), math.Round(f(x)*1e5) / 1e5})
	}
	return out
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
