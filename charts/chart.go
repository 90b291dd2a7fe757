package charts

import (
	"math"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Chart is one chart of the page: go-echarts builds its ECharts option, the
// page's script draws it into the element with ID.
type Chart struct {
	ID      string
	Title   string
	Caption string
	Option  map[string]any
}

// palette gives each setting the same colour in every chart.
var palette = []string{"#2f6fb0", "#d9822b", "#3a9a5b", "#c23b3b", "#7b5ea7", "#8c6d1f", "#1f8c8c", "#b0476b"}

const (
	baselineColor = "#555555"
	invalidColor  = "#b8b8b8"
)

func colorOf(i int) string { return palette[i%len(palette)] }

// optioned is any go-echarts chart: Validate fills its axes, JSON is its option.
type optioned interface {
	Validate()
	JSON() map[string]interface{}
}

func newChart(id, title, caption string, c optioned) Chart {
	c.Validate()
	return Chart{ID: id, Title: title, Caption: caption, Option: c.JSON()}
}

// common are the options every chart shares: no animation (a screenshot or a
// print shows the final state), the legend on top, an axis tooltip.
func common(trigger string) []gocharts.GlobalOpts {
	return []gocharts.GlobalOpts{
		gocharts.WithAnimation(false),
		gocharts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: trigger}),
		gocharts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0"}),
		gocharts.WithGridOpts(opts.Grid{Left: "60", Right: "30", Top: "64", Bottom: "50", ContainLabel: opts.Bool(true)}),
	}
}

func valueAxisX(name string) gocharts.GlobalOpts {
	return gocharts.WithXAxisOpts(opts.XAxis{Type: "value", Name: name, NameLocation: "middle", NameGap: 30, Scale: opts.Bool(true)})
}

func valueAxisY(name string) gocharts.GlobalOpts {
	return gocharts.WithYAxisOpts(opts.YAxis{Type: "value", Name: name, NameLocation: "middle", NameGap: 50})
}

// points turns x,y pairs into line data.
func points(xy [][2]float64) []opts.LineData {
	out := make([]opts.LineData, 0, len(xy))
	for _, p := range xy {
		out = append(out, opts.LineData{Value: []float64{p[0], p[1]}})
	}
	return out
}

func scatterPoints(xy [][2]float64) []opts.ScatterData {
	out := make([]opts.ScatterData, 0, len(xy))
	for _, p := range xy {
		out = append(out, opts.ScatterData{Value: []float64{p[0], p[1]}})
	}
	return out
}

func lineStyle(color, kind string) gocharts.SeriesOpts {
	return gocharts.WithLineStyleOpts(opts.LineStyle{Color: color, Type: kind, Width: 2})
}

func itemColor(color string) gocharts.SeriesOpts {
	return gocharts.WithItemStyleOpts(opts.ItemStyle{Color: color})
}

// round keeps two decimals: enough for a chart, short in the page.
func round(v float64) float64 { return math.Round(v*100) / 100 }
