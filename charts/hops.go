package charts

import (
	"fmt"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
)

// hopsChart decomposes the requests through the sidecar per inbound request,
// as the model counts them (1 inbound + k outbound), beside what the proxy's
// own counters measured.
func hopsChart(in Input) (Chart, bool) {
	k := in.Sweep.Options.OutboundPerRequest
	b := model.Fanout{Outbound: float64(k)}.Breakdown()
	measured := measuredPerInbound(in)
	bar := gocharts.NewBar()
	bar.SetGlobalOptions(append(common("axis"),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "requests through the sidecar per inbound request", NameLocation: "middle", NameGap: 30}),
		gocharts.WithYAxisOpts(opts.YAxis{Type: "category"}))...)
	bar.SetXAxis([]string{"model (1 + k)", "measured"})
	label := gocharts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "inside"})
	stack := gocharts.WithBarChartOpts(opts.BarChart{Stack: "hops", BarWidth: "45%"})
	bar.AddSeries("inbound", []opts.BarData{{Value: b.Inbound}, {Value: "-"}}, itemColor(colorOf(0)), label, stack)
	bar.AddSeries(fmt.Sprintf("outbound (k = %d)", k), []opts.BarData{{Value: b.Outbound}, {Value: "-"}}, itemColor(colorOf(1)), label, stack)
	bar.AddSeries("measured by the proxy's counters", []opts.BarData{{Value: "-"}, {Value: round(measured)}}, itemColor(colorOf(2)), label, stack)
	bar.XYReversal()
	return newChart("chart-hops", "Hops per inbound request",
		fmt.Sprintf("Every request the app sends leaves through its own sidecar: an inbound call with k = %d outbound calls crosses the sidecar %g times, so the sidecar carries %g x the inbound rate.", k, b.Total, b.Total), bar), true
}

// measuredPerInbound is fit's median proxy requests per inbound request, or
// the same median over valid steps without a fit.
func measuredPerInbound(in Input) float64 {
	if in.Fit != nil {
		return in.Fit.RequestsPerInbound
	}
	var xs []float64
	for _, st := range FinishedSteps(in.Sweep) {
		if st.Status == results.StatusOK && st.ProxyRequestsPerInbound > 0 {
			xs = append(xs, st.ProxyRequestsPerInbound)
		}
	}
	return model.Median(xs)
}
