package charts

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed page.html.tmpl
var pageTemplate string

//go:embed page.js
var pageScript string

//go:embed page.css
var pageStyle string

var tmpl = template.Must(template.New("report").Parse(pageTemplate))

// view is what the template reads. Text comes in as plain strings, which
// html/template escapes for where it lands (element text, attribute, or a JS
// value); only our own script, style and the vetted ECharts build are marked
// safe.
type view struct {
	Summary
	Title     string
	Generated string
	Charts    []Chart
	Specs     []spec
	Missing   []string
	ECharts   template.JS
	Script    template.JS
	Style     template.CSS
}

// spec is one chart as the page's script reads it.
type spec struct {
	ID     string         `json:"id"`
	Option map[string]any `json:"option"`
}

// chartSet gathers the charts a page has data for and the titles of those
// it has none for, saying why.
type chartSet struct {
	built   []Chart
	missing []string
}

func (s *chartSet) add(missingTitle string, c Chart, ok bool) {
	if ok {
		s.built = append(s.built, c)
	} else {
		s.missing = append(s.missing, missingTitle)
	}
}

// Charts builds every chart the sweep has data for, and names the ones it has
// none for.
func Charts(in Input) (built []Chart, missing []string) {
	var set chartSet
	add := set.add
	c, ok := cpuChart(in)
	add("proxy CPU against sidecar RPS (no valid step)", c, ok)
	c, ok = capacityChart(in)
	add("maximum RPS (no valid step)", c, ok)
	c, ok = latencyChart(in, p50)
	add("p50 latency (no baseline and no valid step)", c, ok)
	c, ok = latencyChart(in, p99)
	add("p99 latency (no baseline and no valid step)", c, ok)
	c, ok = latencyChart(in, p99Intended)
	add("p99 latency from intended send times (not recorded)", c, ok)
	c, ok = throttlingChart(in)
	add("throttling (no setting with a CPU limit ran)", c, ok)
	c, ok = memoryChart(in)
	add("memory (no working set measured)", c, ok)
	c, ok = hopsChart(in)
	add("hops", c, ok)
	return set.built, set.missing
}

// Render writes report.html for in.
func Render(w io.Writer, in Input) error {
	if err := in.Validate(); err != nil {
		return err
	}
	script, err := Script()
	if err != nil {
		return err
	}
	generated := in.GeneratedAt
	if generated.IsZero() {
		generated = time.Now()
	}
	v := view{Summary: Summarize(in), Generated: generated.UTC().Format(time.RFC3339),
		ECharts: template.JS(script), Script: template.JS(pageScript), Style: template.CSS(pageStyle)}
	v.Title = "Sidecar sizing report: " + v.Proxy
	v.Charts, v.Missing = Charts(in)
	for _, c := range v.Charts {
		v.Specs = append(v.Specs, spec{ID: c.ID, Option: c.Option})
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}
