package cluster

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/textfmt"
	"github.com/proxysizer/proxysizer/sizing"
)

// WriteTable writes the report for a person: the HPA and its sidecar, each
// container's absolute target now, where the app scales now, the HPA
// core's recalculation (sizing.WriteHPATable), the assumptions and the
// warnings.
func (r *HPAReport) WriteTable(w io.Writer) error {
	num := textfmt.Figure
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "HPA %s/%s -> deployment %s (server %s)\n", r.Namespace, r.HPA, r.Deployment, r.ServerVersion)
	fmt.Fprintf(tw, "  current metric\t%s\n", r.Metric)
	fmt.Fprintf(tw, "  sidecar\t%s\n\n", r.Sidecar)
	fmt.Fprintln(tw, "CONTAINER\tROLE\tCPU REQUEST\tABSOLUTE TARGET NOW\tSOURCE")
	for _, c := range r.Containers {
		req := "none"
		if c.HasRequest {
			req = quantity.Millicores(c.RequestMillicores)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%sm\t%s\n", c.Name, c.Role, req, num(c.AbsoluteTargetMillicores), c.Source)
	}
	if r.Recalculation != nil {
		fmt.Fprintf(tw, "\n  pod requests\t%s\tthe Resource metric divides the pod's CPU by this\n", quantity.Millicores(r.PodRequests))
		fmt.Fprintf(tw, "  app scales now at\t%sm\t%d%% of %s minus the sidecar's %sm\n", num(r.AppScalesNowAt), r.TargetPercent, quantity.Millicores(r.PodRequests), num(r.SidecarUsage))
		fmt.Fprintf(tw, "  sidecar CPU at target\t%sm\t%s\n", num(r.SidecarUsage), r.SidecarBasis)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if r.Recalculation != nil {
		hw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		sizing.WriteHPATable(hw, r.Recalculation)
		if err := hw.Flush(); err != nil {
			return err
		}
	}
	textfmt.List(w, "ASSUMPTIONS", r.Assumptions)
	textfmt.List(w, "WARNINGS", r.Warnings)
	return nil
}

// WriteManifest writes the corrected HPA, ready to apply, under a comment
// saying why; or only a comment when there is nothing to correct.
func (r *HPAReport) WriteManifest(w io.Writer) error {
	if r.Corrected == nil {
		_, err := fmt.Fprintf(w, "# HPA %s/%s: nothing to correct (%s)\n", r.Namespace, r.HPA, r.Metric)
		return err
	}
	data, err := sizing.CleanObject(r.Corrected)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# HorizontalPodAutoscaler %s/%s corrected for its sidecar: %s\n", r.Namespace, r.HPA, r.Recalculation.MetricReason)
	_, err = w.Write(data)
	return err
}
