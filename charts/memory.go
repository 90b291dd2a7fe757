package charts

import (
	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

const mib = 1024 * 1024

// memoryChart plots each valid step's working set against its concurrency,
// with the fitted memory line (base at one worker + per extra worker).
func memoryChart(in Input) (Chart, bool) {
	sc := gocharts.NewScatter()
	sc.SetGlobalOptions(append(common("item"),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "proxy concurrency (workers)", NameLocation: "middle", NameGap: 30, MinInterval: 1, Scale: opts.Bool(true)}),
		valueAxisY("working set (MiB)"))...)
	done := FinishedSteps(in.Sweep)
	any := false
	lo, hi := 0, 0
	for i, s := range Settings(in.Sweep) {
		var xy [][2]float64
		for _, st := range valid(stepsAt(done, s)) {
			if st.MemoryWorkingSetBytes > 0 {
				xy = append(xy, [2]float64{float64(st.Concurrency), round(float64(st.MemoryWorkingSetBytes) / mib)})
			}
		}
		if len(xy) == 0 {
			continue
		}
		if !any || s.Concurrency < lo {
			lo = s.Concurrency
		}
		hi = max(hi, s.Concurrency)
		any = true
		sc.AddSeries(SettingLabel(s), scatterPoints(xy), itemColor(colorOf(i)), gocharts.WithScatterChartOpts(opts.ScatterChart{SymbolSize: 9}))
	}
	if !any {
		return Chart{}, false
	}
	if in.Fit != nil && in.Fit.Memory.Points > 0 {
		m := in.Fit.Memory
		at := func(c int) float64 { return round((m.BaseBytes + m.PerWorkerBytes*float64(c-1)) / mib) }
		line := gocharts.NewLine()
		line.AddSeries("fit: base + per extra worker", points([][2]float64{{float64(lo), at(lo)}, {float64(hi), at(hi)}}),
			lineStyle(baselineColor, "dashed"), itemColor(baselineColor), gocharts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(lo == hi)}))
		sc.Overlap(line)
	}
	return newChart("chart-memory", "Memory against concurrency",
		"Working set (cgroup usage minus inactive file pages, as cAdvisor reports it) of each valid step. Memory follows workers and configuration size, not the request rate.", sc), true
}
