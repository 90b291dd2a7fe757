package cmd

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newHPACmd) }

type hpaFlags struct {
	kube         kubeReadFlags
	sidecarUsage string
	sidecarReq   string
	appContainer string
	output       string
	replay       hpaReplayFlags
}

func newHPACmd() *cobra.Command {
	var f hpaFlags
	c := &cobra.Command{
		Use:   "hpa NAME",
		Short: "Recalculate a live HPA's CPU target for the sidecar in its pods",
		Long: `hpa reads a HorizontalPodAutoscaler and its target Deployment: the
containers' CPU requests and the Istio sidecar's (from the pod-template
annotations, an istio-proxy container, a native sidecar init container, or
a running pod's injected container). It prints each container's absolute
CPU target now, the request-weighted and usage-aware targets that keep the
app's original absolute target (the rules of ` + "`plan`" + `), and with -o manifests
the corrected HPA: a ContainerResource metric on the app container where the
server (discovery) is 1.27 or newer, else the Resource metric at the
adjusted target. The HPA's target is taken as the one chosen for the app
alone, before the sidecar shared the pod.

With --replay it replays the HPA on the Deployment's Prometheus history
(the containers' CPU per pod, and kube-state-metrics' pod series when
scraped) three times, each run with its own pods sharing the observed load:
the current target, the recommended one (from the sidecar's CPU the history
shows at the app's target), and the app-only reference (the current target
on the pods without the sidecar). It prints the replicas of each run, the
minutes each differs from the reference and a reading; -o csv gives every
sync, --replay-out the page with the chart.`,
		Example: `  proxysizer hpa -n shop web
  proxysizer hpa -n shop web --sidecar-cpu-usage 180m -o json
  proxysizer hpa -n shop web -o manifests | kubectl apply -f -
  proxysizer hpa -n shop web --replay --prometheus-url http://prometheus.monitoring:9090 --replay-window 24h --replay-out replay.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			if len(validation.IsDNS1123Subdomain(name)) > 0 {
				return badInput("HPA name: expected a Kubernetes object name, got %q", name)
			}
			opts, err := f.options(c)
			if err != nil {
				return err
			}
			clients, err := f.kube.Connect()
			if err != nil {
				return err
			}
			if f.replay.on {
				return f.replay.runReplay(c, clients, name, opts, f.kube.Timeout, f.output)
			}
			ctx, cancel := context.WithTimeout(c.Context(), f.kube.Timeout)
			defer cancel()
			v, err := cluster.ReadHPA(ctx, clients.Typed, clients.Namespace, name)
			if err != nil {
				return err
			}
			r, err := cluster.RecalculateHPA(v, opts)
			if err != nil {
				return err
			}
			hpaInFlagWords(r)
			return writeHPAReport(c.OutOrStdout(), f.output, r)
		},
	}
	fl := c.Flags()
	f.kube.register(fl, 30*time.Second, "how long the reads may take")
	fl.StringVar(&f.sidecarUsage, "sidecar-cpu-usage", "", "the sidecar's CPU when the app is at its target, e.g. 180m from a sweep or a dashboard (default: its request, as an assumption; with --replay, the line the history shows at the app's target)")
	fl.StringVar(&f.sidecarReq, "sidecar-cpu-request", "", "the sidecar's CPU request, when the cluster does not show it (no annotation, no running pod)")
	fl.StringVar(&f.appContainer, "app-container", "", "the app container for a ContainerResource metric (default: the first container that is not the sidecar)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json, yaml or manifests (the corrected HPA); with --replay table, json, yaml or csv")
	f.replay.register(fl)
	return c
}

// options checks the flags and turns them into what the recalculation
// takes from the user.
func (f *hpaFlags) options(c *cobra.Command) (cluster.HPAOptions, error) {
	var o cluster.HPAOptions
	if err := f.kube.validate(); err != nil {
		return o, err
	}
	if !oneOf(f.output, "table", "json", "yaml", "manifests", "csv") {
		return o, flagError("output", "expected table, json, yaml or manifests (csv with --replay), got %q", f.output)
	}
	set := c.Flags().Changed
	if err := f.replay.validate(set, f.output); err != nil {
		return o, err
	}
	if set("sidecar-cpu-usage") {
		m, err := quantity.ParseMillicores(f.sidecarUsage)
		if err != nil {
			return o, flagError("sidecar-cpu-usage", "expected a CPU quantity within %s such as 180m, got %q", quantity.CPURange, f.sidecarUsage)
		}
		o.SidecarCPUAtTargetMillicores = float64(m)
	}
	if set("sidecar-cpu-request") {
		m, err := quantity.ParseMillicores(f.sidecarReq)
		if err != nil {
			return o, flagError("sidecar-cpu-request", "expected a CPU quantity within %s such as 100m, got %q", quantity.CPURange, f.sidecarReq)
		}
		o.SidecarCPURequestMillicores = m
	}
	if set("app-container") && len(validation.IsDNS1123Label(f.appContainer)) > 0 {
		return o, flagError("app-container", "expected a container name, got %q", f.appContainer)
	}
	o.AppContainer = f.appContainer
	return o, nil
}

// hpaInFlagWords words the remarks of a live HPA's recalculation that point
// at one of the command's inputs with the flag that gives it.
func hpaInFlagWords(r *cluster.HPAReport) {
	inFlagWords(r.Assumptions)
	inFlagWords(r.Warnings)
	for i := range r.Containers {
		r.Containers[i].Source = sourceInFlagWords(r.Containers[i].Source)
	}
	r.SidecarBasis = basisInFlagWords(r.SidecarBasis)
	if h := r.Recalculation; h != nil {
		h.SidecarCPURequestSource = sourceInFlagWords(h.SidecarCPURequestSource)
		h.SidecarCPUAtAppTargetBasis = basisInFlagWords(h.SidecarCPUAtAppTargetBasis)
		inFlagWords(h.Notes)
	}
}

// planHPAInFlagWords does the same for a plan's HPA.
func planHPAInFlagWords(p *sizing.Plan, in sizing.Input) {
	h := p.HPA
	if h == nil || in.HPA == nil {
		return
	}
	h.SidecarCPURequestSource = sourceInFlagWords(h.SidecarCPURequestSource)
	h.SidecarCPUAtAppTargetBasis = basisInFlagWords(h.SidecarCPUAtAppTargetBasis)
	inFlagWords(h.Notes)
	if h.MetricReason.Kind == sizing.RemarkMetricVersionUnknown {
		h.MetricReason.Text = fmt.Sprintf("Resource metric at %d%%: no --k8s-version given; from Kubernetes 1.27 a ContainerResource metric on container %q keeps the original %d%% unchanged",
			h.ManifestTargetPercent, in.HPA.AppContainer, h.OriginalTargetPercent)
	}
}

// inFlagWords rewords, in place, the remarks whose remedy is a flag.
func inFlagWords(rs []sizing.Remark) {
	for i, r := range rs {
		switch r.Kind {
		case sizing.RemarkAppTargetAtPlannedLoad:
			rs[i].Text = "assumption: the app reaches its CPU target at the planned per-pod load; pass --app-cpu-per-krps to tie the sidecar's CPU to the app's"
		case sizing.RemarkNoSidecarFound:
			rs[i].Text = "no sidecar found (no sidecar.istio.io resource annotations, no istio-proxy container in the template or a running pod): the pod's requests are the app's; pass --sidecar-cpu-request if a sidecar is injected"
		case sizing.RemarkSidecarUsageAssumed:
			rs[i].Text = "the sidecar's CPU at the app's target is taken as its request: pass --sidecar-cpu-usage (e.g. from `proxysizer sweep` or container_cpu_usage_seconds_total{container=\"istio-proxy\"}) for the usage-aware target"
		}
	}
}

// sourceInFlagWords names a request given by the user by its flag.
func sourceInFlagWords(r sizing.Remark) sizing.Remark {
	if r.Kind == sizing.RemarkRequestGiven {
		r.Text = "--sidecar-cpu-request"
	}
	return r
}

// basisInFlagWords names the flag behind the sidecar's CPU at the app's
// target, or the one that would give it.
func basisInFlagWords(b sizing.SidecarCPUBasis) sizing.SidecarCPUBasis {
	switch b.Kind {
	case sizing.BasisAppCost:
		b.Text = fmt.Sprintf("--app-cpu-per-krps %.3f: the app reaches its target at %.0f inbound RPS per pod, %.0f through the sidecar",
			b.AppCoresPerKRPS, b.InboundRPSAtTarget, b.SidecarRPSAtTarget)
	case sizing.BasisPlannedLoad:
		b.Text = fmt.Sprintf("the planned %.0f sidecar RPS per pod (no --app-cpu-per-krps): assumes the app reaches its target at the planned per-pod load", b.PlannedSidecarRPS)
	case sizing.BasisGiven:
		b.Text = "--sidecar-cpu-usage"
	case sizing.BasisRequest:
		b.Text = "assumed equal to the sidecar's CPU request; pass --sidecar-cpu-usage with a measured figure"
	}
	return b
}

func writeHPAReport(w io.Writer, format string, r *cluster.HPAReport) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "yaml":
		return writeYAML(w, r)
	case "manifests":
		if r.Corrected == nil {
			fmt.Fprintf(w, "# HPA %s/%s: nothing to correct (%s)\n", r.Namespace, r.HPA, r.Metric)
			return nil
		}
		data, err := sizing.CleanObject(r.Corrected)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "# HorizontalPodAutoscaler %s/%s corrected for its sidecar: %s\n", r.Namespace, r.HPA, r.Recalculation.MetricReason)
		_, err = w.Write(data)
		return err
	}
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
		writeHPATable(hw, r.Recalculation)
		if err := hw.Flush(); err != nil {
			return err
		}
	}
	list(w, "ASSUMPTIONS", sizing.Texts(r.Assumptions))
	list(w, "WARNINGS", sizing.Texts(r.Warnings))
	return nil
}
