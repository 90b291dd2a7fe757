package charts

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"

	gocharts "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/proxysizer/proxysizer/hpareplay"
)

//go:embed replay.html.tmpl
var replayTemplate string

var replayTmpl = template.Must(template.New("replay").Parse(replayTemplate))

// replayView is what the replay page's template reads; like the sweep's
// page, every text reaches it as a plain string for html/template to
// escape.
type replayView struct {
	Title     string
	Sub       string
	Generated string
	Reading   string
	Charts    []Chart
	Specs     []spec
	Runs      []replayRunRow
	Differing []replayIntervalRow
	Settings  []replayFact
	Notes     []string
	Queries   []replayQueryRow
	ECharts   template.JS
	Script    template.JS
	Style     template.CSS
}

type replayFact struct{ Label, Value string }

type replayRunRow struct {
	Name, Metric, Differs, Above, Below, ExtraPodMinutes, FirstScaleUp, VsReference, MaxReplicas string
}

type replayIntervalRow struct{ Run, From, To, Replicas, Reference string }

type replayQueryRow struct{ Name, Expr string }

// The runs' colours: the reference is the line to read the others
// against.
const (
	referenceColor   = "#2f6fb0"
	currentColor     = "#d9822b"
	recommendedColor = "#3a9a5b"
)

// ReplayCharts are the replay page's charts: the replicas of each run and
// the pods observed ready, over time; the load the runs shared.
func ReplayCharts(r *hpareplay.Report) []Chart {
	return []Chart{replicasChart(r), loadChart(r)}
}

// replicasChart draws each run's replicas after each sync as a step line
// (a value holds until the next sync), one point per change.
func replicasChart(r *hpareplay.Report) Chart {
	line := gocharts.NewLine()
	line.SetGlobalOptions(append(common("axis"),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "time", Name: "time (UTC)", NameLocation: "middle", NameGap: 30}),
		valueAxisY("replicas"),
		gocharts.WithDataZoomOpts(opts.DataZoom{Type: "inside"}))...)
	type run struct {
		name, color, style string
		width              float32
		value              func(hpareplay.SyncRow) float64
	}
	for _, s := range []run{
		{"pods observed ready", baselineColor, "dotted", 1.5, func(s hpareplay.SyncRow) float64 { return float64(s.Observed) }},
		{hpareplay.RunReference + ": " + r.Runs[2].Metric, referenceColor, "solid", 4, func(s hpareplay.SyncRow) float64 { return float64(s.Reference) }},
		{hpareplay.RunCurrent + ": " + r.Runs[0].Metric, currentColor, "solid", 2, func(s hpareplay.SyncRow) float64 { return float64(s.Current) }},
		{hpareplay.RunRecommended + ": " + r.Runs[1].Metric, recommendedColor, "dashed", 2, func(s hpareplay.SyncRow) float64 { return float64(s.Recommended) }},
	} {
		line.AddSeries(s.name, stepPoints(r.Syncs, s.value),
			gocharts.WithLineStyleOpts(opts.LineStyle{Color: s.color, Type: s.style, Width: s.width}), itemColor(s.color),
			gocharts.WithLineChartOpts(opts.LineChart{Step: "end", ShowSymbol: opts.Bool(false)}))
	}
	return newChart("chart-replicas", "Replicas after each sync",
		"Each run's replica count (the scale target's spec.replicas after each sync), drawn as steps: read the current and recommended runs against the thick app-only reference; above it the HPA runs more pods than the app needed (it scales up early or down late), below it fewer (up late or down early). The dotted line is the pods the history shows ready.", line)
}

// stepPoints keeps the syncs where the value changes, and the last one.
func stepPoints(rows []hpareplay.SyncRow, value func(hpareplay.SyncRow) float64) []opts.LineData {
	var out []opts.LineData
	for i, s := range rows {
		v := value(s)
		if i > 0 && i < len(rows)-1 && v == value(rows[i-1]) {
			continue
		}
		out = append(out, opts.LineData{Value: []any{s.At.UnixMilli(), v}})
	}
	return out
}

// loadChart draws the observed load: the app's and the sidecar's CPU
// summed over the pods observed ready.
func loadChart(r *hpareplay.Report) Chart {
	line := gocharts.NewLine()
	line.SetGlobalOptions(append(common("axis"),
		gocharts.WithXAxisOpts(opts.XAxis{Type: "time", Name: "time (UTC)", NameLocation: "middle", NameGap: 30}),
		valueAxisY("CPU (cores), all ready pods"),
		gocharts.WithDataZoomOpts(opts.DataZoom{Type: "inside"}))...)
	for _, s := range []struct {
		name, color string
		value       func(hpareplay.LoadRow) float64
	}{
		{"app containers", referenceColor, func(l hpareplay.LoadRow) float64 { return l.AppMillicores }},
		{"sidecar", currentColor, func(l hpareplay.LoadRow) float64 { return l.SidecarMillicores }},
	} {
		var data []opts.LineData
		for _, l := range r.Load {
			v := s.value(l)
			if math.IsNaN(v) {
				continue
			}
			data = append(data, opts.LineData{Value: []any{l.At.UnixMilli(), math.Round(v) / 1000}})
		}
		if len(data) == 0 {
			continue
		}
		line.AddSeries(s.name, data, lineStyle(s.color, "solid"), itemColor(s.color),
			gocharts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}))
	}
	return newChart("chart-load", "The load every run spreads over its own pods",
		"CPU of the pods the history shows ready, summed per container: what every run's ready pods share.", line)
}

// RenderReplay writes the replay's page.
func RenderReplay(w io.Writer, r *hpareplay.Report, generated time.Time) error {
	if len(r.Runs) != 3 {
		return fmt.Errorf("a replay report needs its three runs, got %d", len(r.Runs))
	}
	script, err := Script()
	if err != nil {
		return err
	}
	if generated.IsZero() {
		generated = time.Now()
	}
	v := replayView{Title: fmt.Sprintf("HPA replay: %s/%s", r.Namespace, r.HPA),
		Sub:       fmt.Sprintf("deployment %s · %s to %s · %d syncs", r.Deployment, r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), len(r.Syncs)),
		Generated: generated.UTC().Format(time.RFC3339), Reading: r.Reading, Notes: r.Notes,
		ECharts: template.JS(script), Script: template.JS(pageScript), Style: template.CSS(pageStyle)}
	v.Charts = ReplayCharts(r)
	for _, c := range v.Charts {
		v.Specs = append(v.Specs, spec{ID: c.ID, Option: c.Option})
	}
	for _, run := range r.Runs {
		row := replayRunRow{Name: run.Name, Metric: run.Metric, Differs: replayMinutes(run.MinutesDiffering), Above: replayMinutes(run.MinutesAbove),
			Below: replayMinutes(run.MinutesBelow), ExtraPodMinutes: fmt.Sprintf("%+.0f", run.ExtraPodMinutes), FirstScaleUp: "none", VsReference: "-",
			MaxReplicas: fmt.Sprint(run.MaxReplicas)}
		if run.FirstScaleUp != nil {
			row.FirstScaleUp = run.FirstScaleUp.UTC().Format(time.RFC3339)
		}
		if d := run.FirstScaleUpMinutesAfterReference; d != nil && run.Name != hpareplay.RunReference {
			row.VsReference = fmt.Sprintf("%+.2f min", *d)
		}
		v.Runs = append(v.Runs, row)
		for i, iv := range run.Differing {
			if i == maxIntervals {
				v.Differing = append(v.Differing, replayIntervalRow{Run: run.Name, From: fmt.Sprintf("... %d more", len(run.Differing)-maxIntervals)})
				break
			}
			v.Differing = append(v.Differing, replayIntervalRow{Run: run.Name, From: iv.From.UTC().Format(time.RFC3339), To: iv.To.UTC().Format(time.RFC3339),
				Replicas: fmt.Sprint(iv.Replicas), Reference: fmt.Sprint(iv.Reference)})
		}
	}
	c := r.Controller
	v.Settings = []replayFact{
		{"controller", fmt.Sprintf("sync %s, tolerance %g, downscale stabilisation %s, CPU initialisation %s, initial readiness delay %s, Kubernetes %s",
			c.SyncPeriod, c.Tolerance, c.DownscaleStabilization, c.CPUInitializationPeriod, c.InitialReadinessDelay, c.Version)},
		{"history", fmt.Sprintf("one sample per %s; pod lifecycles %s", c.Step, r.Lifecycles)},
		{"pod start-up", fmt.Sprintf("%s (%s)", c.PodStartup, r.PodStartupBasis)},
		{"load model", r.LoadModel},
	}
	if r.Sidecar != nil {
		v.Settings = append(v.Settings, replayFact{"sidecar CPU", r.Sidecar.String()})
	}
	if rec := r.Recommendation; rec.TargetPercent > 0 {
		v.Settings = append(v.Settings, replayFact{"recommended target", fmt.Sprintf("%d%%: the usage-aware %.1f%% = (the app's %.0fm target + the sidecar's %.0fm) / the pod's requests; sidecar CPU: %s",
			rec.TargetPercent, rec.UsageAwarePercent, rec.AppTargetMillicores, rec.SidecarAtAppTargetMillicores, rec.SidecarBasis)},
			replayFact{"manifest", rec.Manifest})
	}
	for _, name := range []string{"cpu", "start", "ready", "deletion", "requests"} {
		if q, ok := r.Queries[name]; ok {
			v.Queries = append(v.Queries, replayQueryRow{name, q})
		}
	}
	var buf bytes.Buffer
	if err := replayTmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("replay page: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// maxIntervals is how many intervals of disagreement the page lists per
// run.
const maxIntervals = 40

func replayMinutes(m float64) string {
	if m == math.Trunc(m) {
		return fmt.Sprintf("%.0f min", m)
	}
	return fmt.Sprintf("%.2f min", m)
}
