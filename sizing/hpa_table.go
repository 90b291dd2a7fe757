package sizing

import (
	"fmt"
	"io"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/textfmt"
)

// WriteHPATable writes the HPA recalculation for a person, a row per
// target with where the app scales at it, then the notes: tab-separated
// cells for a tabwriter (a plan's table and a live HPA's share it).
func WriteHPATable(w io.Writer, h *HPA) {
	num := textfmt.Figure
	fmt.Fprintln(w, "HPA (CPU)")
	fmt.Fprintf(w, "  requests\tapp %s + sidecar %s\t(sidecar: %s)\n", quantity.Millicores(h.AppCPURequestMillicores), quantity.Millicores(h.SidecarCPURequestMillicores), h.SidecarCPURequestSource)
	fmt.Fprintf(w, "  original target\t%d%%\tthe app alone scaled at %sm\n", h.OriginalTargetPercent, num(h.OriginalAbsoluteTargetMillicores))
	fmt.Fprintf(w, "  target kept unchanged\t%d%%\tthe app would scale at %sm\n", h.OriginalTargetPercent, num(h.AppCPUAtTarget.UnchangedTarget))
	fmt.Fprintf(w, "  request-weighted target\t%s%%\toriginal absolute target / sum of requests; app scales at %sm\n", num(h.RequestWeightedTargetPercent), num(h.AppCPUAtTarget.RequestWeighted))
	fmt.Fprintf(w, "  sidecar CPU at app target\t%sm\t%s\n", num(h.SidecarCPUAtAppTargetMillicores), h.SidecarCPUAtAppTargetBasis)
	fmt.Fprintf(w, "  usage-aware target\t%s%%\tcounts the sidecar's own CPU; app scales at %sm\n", num(h.UsageAwareTargetPercent), num(h.AppCPUAtTarget.ManifestTarget))
	fmt.Fprintf(w, "  manifest target\t%d%%\t%s\n", h.ManifestTargetPercent, h.ManifestTargetReason)
	fmt.Fprintf(w, "  metric\t%s\t%s\n", h.Metric.Type, h.MetricReason)
	for _, n := range h.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	fmt.Fprintln(w)
}
