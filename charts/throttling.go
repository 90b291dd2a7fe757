package charts

import (
	"math"
	"sort"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/results"
)

// throttlingChart plots the share of CFS periods throttled against sidecar
// RPS for each setting with a CPU limit, every finished step (a throttled
// step is often the one that failed validity, which is the point).
func throttlingChart(in Input) (Chart, bool) {
	done := FinishedSteps(in.Sweep)
	line := gocharts.NewLine()
	// The y axis reaches past the threshold so that its line always shows.
	line.SetGlobalOptions(append(common("item"), valueAxisX("sidecar RPS"),
		gocharts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "throttled periods (%)", NameLocation: "middle", NameGap: 50, Max: yMax(done)}))...)
	any := false
	for i, s := range Settings(in.Sweep) {
		if s.CPULimitMillicores == 0 {
			continue
		}
		var mine []results.Step
		for _, st := range stepsAt(done, s) {
			if st.Status != results.StatusFailed && st.SidecarRPS > 0 {
				mine = append(mine, st)
			}
		}
		if len(mine) == 0 {
			continue
		}
		sort.Slice(mine, func(a, b int) bool { return mine[a].SidecarRPS < mine[b].SidecarRPS })
		var xy [][2]float64
		for _, st := range mine {
			xy = append(xy, [2]float64{round(st.SidecarRPS), round(st.ThrottledRatio * 100)})
		}
		opt := []gocharts.SeriesOpts{lineStyle(colorOf(i), "solid"), itemColor(colorOf(i))}
		if !any {
			// One threshold line is enough; it rides on the first series.
			opt = append(opt,
				gocharts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "throttled from here", YAxis: fit.ThrottleThreshold * 100}),
				gocharts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"}, LineStyle: &opts.LineStyle{Color: "#c23b3b", Type: "dotted"}}))
		}
		any = true
		line.AddSeries(SettingLabel(s), points(xy), opt...)
	}
	if !any {
		return Chart{}, false
	}
	return newChart("chart-throttling", "CFS throttling against load",
		"Share of the CPU quota's periods in which the proxy was throttled, for settings with a CPU limit; from 5% (dotted) the quota, not the load, limits the proxy.", line), true
}

// yMax is 10% or the highest throttling seen, rounded up to 10%.
func yMax(steps []results.Step) float64 {
	top := 10.0
	for _, st := range steps {
		top = max(top, math.Ceil(st.ThrottledRatio*10)*10)
	}
	return top
}
