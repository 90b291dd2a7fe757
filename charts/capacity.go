package charts

import (
	"fmt"
	"math"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/results"
)

// capacityChart groups the maximum sidecar RPS by concurrency, one bar per CPU
// limit: the fit's maximum (the search's, or the highest valid step), or
// without a fit the highest valid step.
func capacityChart(in Input) (Chart, bool) {
	settings := Settings(in.Sweep)
	var conc []int
	var limits []int64
	seenC, seenL := map[int]bool{}, map[int64]bool{}
	for _, s := range settings {
		if !seenC[s.Concurrency] {
			seenC[s.Concurrency] = true
			conc = append(conc, s.Concurrency)
		}
		if !seenL[s.CPULimitMillicores] {
			seenL[s.CPULimitMillicores] = true
			limits = append(limits, s.CPULimitMillicores)
		}
	}
	sortLimits(limits)
	var cats []string
	for _, c := range conc {
		cats = append(cats, fmt.Sprintf("%d worker(s)", c))
	}
	bar := gocharts.NewBar()
	bar.SetGlobalOptions(append(common("axis"),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "proxy concurrency", NameLocation: "middle", NameGap: 30}),
		valueAxisY("max sidecar RPS"))...)
	bar.SetXAxis(cats)
	done := FinishedSteps(in.Sweep)
	any := false
	for i, l := range limits {
		data := make([]opts.BarData, 0, len(conc))
		for _, c := range conc {
			s := results.Setting{Concurrency: c, CPULimitMillicores: l}
			v, basis := maxRPS(in, s, done)
			if v > 0 {
				any = true
			}
			data = append(data, opts.BarData{Value: math.Round(v), Name: basis})
		}
		bar.AddSeries("CPU limit "+results.LimitString(l), data, itemColor(colorOf(i)),
			gocharts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "top"}))
	}
	if !any {
		return Chart{}, false
	}
	return newChart("chart-capacity", "Maximum sidecar RPS by concurrency and CPU limit",
		"The most each setting was shown to carry: a max-throughput search's result where one ran and saw a rate fail, else a lower bound, the highest valid step (the true maximum was not measured).", bar), true
}

func maxRPS(in Input, s results.Setting, done []results.Step) (float64, string) {
	if f := in.Fit.ForSetting(s); f != nil {
		return f.MaxSidecarRPS, f.MaxBasis
	}
	best := 0.0
	for _, st := range valid(stepsAt(done, s)) {
		best = max(best, st.SidecarRPS)
	}
	return best, "highest valid step"
}

func sortLimits(l []int64) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && limitOrder(l[j]) < limitOrder(l[j-1]); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}
