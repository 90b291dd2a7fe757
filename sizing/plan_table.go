package sizing

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/textfmt"
)

// WriteTable prints the plan for a person: each figure, then why.
func (p Plan) WriteTable(out io.Writer) error {
	num := textfmt.Figure
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Profile: %s (%s, %s)\n\n", p.Profile.Name, p.Profile.Kind, p.Profile.Proxy)

	fmt.Fprintln(w, "LOAD PER POD")
	if p.Replicas > 0 {
		fmt.Fprintf(w, "  inbound (library level)\t%s RPS\t%s RPS / %d replicas\n", num(p.AppRPSPerPod), num(p.TotalRPS), p.Replicas)
	} else {
		fmt.Fprintf(w, "  inbound (library level)\t%s RPS\t\n", num(p.AppRPSPerPod))
	}
	h := p.Hops
	fmt.Fprintf(w, "  requests per inbound call\t%s\t%s inbound + %s outbound + %s authz + %s retries\n",
		num(h.Total), num(h.Inbound), num(h.Outbound), num(h.Authz), num(h.Retries))
	fmt.Fprintf(w, "  through the sidecar\t%s RPS\t%s x %s\n", num(p.SidecarRPSPerPod), num(p.AppRPSPerPod), num(h.Total))
	fmt.Fprintf(w, "  peak with headroom\t%s RPS\t+%s%%\n\n", num(p.PeakSidecarRPS), num(p.Headroom*100))

	s := p.Sidecar
	fmt.Fprintln(w, "SIDECAR")
	row(w, "concurrency", fmt.Sprint(p.Concurrency), p.ConcurrencyReason)
	row(w, "cpu request", quantity.Millicores(s.CPURequestMillicores), s.Reasons.CPURequest)
	limit := "none"
	if s.CPULimitMillicores > 0 {
		limit = quantity.Millicores(s.CPULimitMillicores)
	}
	row(w, "cpu limit", limit, s.Reasons.CPULimit)
	row(w, "memory request", quantity.Bytes(s.MemoryRequestBytes), s.Reasons.MemoryRequest)
	row(w, "memory limit", quantity.Bytes(s.MemoryLimitBytes), s.Reasons.MemoryLimit)
	if l := p.Latency; len(l.Figures("+")) > 0 || l.Note != "" {
		row(w, "latency added", l.Text("+"), l.Note)
	}
	fmt.Fprintln(w)

	if p.HPA != nil {
		WriteHPATable(w, p.HPA)
	}
	textfmt.List(w, "ASSUMPTIONS", p.Assumptions)
	textfmt.List(w, "WARNINGS", p.Warnings)
	return w.Flush()
}

func row(w io.Writer, name, value, why string) {
	// Fixed width, not tabwriter cells: the "why" lines between rows would
	// break tabwriter's column blocks.
	fmt.Fprintf(w, "  %-16s%s\n", name, value)
	if why != "" {
		fmt.Fprintf(w, "    why: %s\n", why)
	}
}
