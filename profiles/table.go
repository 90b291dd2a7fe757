package profiles

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/textfmt"
	"github.com/proxysizer/proxysizer/model"
)

// WriteTable lists profiles for a person, a row each with its provenance;
// "*" marks the default.
func WriteTable(out io.Writer, ps []Profile) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tCOMPONENT\tISTIO\tVCPU/1000RPS\tMEMORY\tWORKERS\tLATENCY ADDED\tSETUP")
	for _, p := range ps {
		name := p.Name
		if name == DefaultName {
			name += " *"
		}
		workers := "-"
		if p.Provenance.Workers > 0 {
			workers = fmt.Sprint(p.Provenance.Workers)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, p.Component, p.Provenance.IstioVersions,
			p.costText(), quantity.Bytes(int64(p.Memory.BaseBytes)), workers, p.Latency.Text(""), p.Provenance.Setup)
	}
	return w.Flush()
}

// costText is the cost per 1000 RPS of a line, or a concave curve's
// first 1000 RPS with its exponent.
func (p Profile) costText() string {
	c := p.CPU.CPUCost
	if c.Model() == model.ModelLine {
		return textfmt.Figure(c.CoresPerKRPS)
	}
	return fmt.Sprintf("%s x (RPS/1000)^%s", textfmt.Figure(c.CoresPerKRPS), textfmt.Figure(c.Exponent))
}

// Figures lists the published quantiles, each after sign: "+2.65 ms p90".
func (l LatencyAdded) Figures(sign string) []string {
	var out []string
	for _, q := range []struct {
		name string
		v    float64
	}{{"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}} {
		if q.v > 0 {
			out = append(out, fmt.Sprintf("%s%s ms %s", sign, textfmt.Figure(q.v), q.name))
		}
	}
	return out
}

// Text is Figures on one line, or "not published".
func (l LatencyAdded) Text(sign string) string {
	if figures := l.Figures(sign); len(figures) > 0 {
		return strings.Join(figures, ", ")
	}
	return "not published"
}
