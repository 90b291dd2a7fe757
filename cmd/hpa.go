package cmd

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newHPACmd) }

func newHPACmd() *cobra.Command {
	var kube kubeReadFlags
	var hpa cluster.HPARequest
	var replay replayFlags
	output := "table"
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
	}
	fl := c.Flags()
	kube.register(fl, 30*time.Second, "how long the reads may take")
	f := newFieldFlags(fl)
	f.bind(sizing.FieldSidecarCPUUsage, &hpa.SidecarCPUUsage, "sidecar-cpu-usage", "the sidecar's CPU when the app is at its target, e.g. 180m from a sweep or a dashboard (default: its request, as an assumption; with --replay, the line the history shows at the app's target)")
	f.bind(sizing.FieldSidecarCPURequest, &hpa.SidecarCPURequest, "sidecar-cpu-request", "the sidecar's CPU request, when the cluster does not show it (no annotation, no running pod)")
	f.bind(sizing.FieldAppContainer, &hpa.AppContainer, "app-container", "the app container for a ContainerResource metric (default: the first container that is not the sidecar)")
	fl.StringVarP(&output, "output", "o", output, "output format: table, json, yaml or manifests (the corrected HPA); with --replay table, json, yaml or csv")
	replay.register(fl)
	c.RunE = func(c *cobra.Command, args []string) error {
		if err := kube.validate(); err != nil {
			return err
		}
		if !oneOf(output, "table", "json", "yaml", "manifests", "csv") {
			return flagError("output", "expected table, json, yaml or manifests (csv with --replay), got %q", output)
		}
		if err := replay.checkMode(c.Flags(), output); err != nil {
			return err
		}
		hpa.Name, hpa.Given, hpa.Names = args[0], f.given(), f.names(input.Names{sizing.FieldSweep: "proxysizer sweep"})
		if replay.on {
			return replay.run(c, kube, hpa, output)
		}
		opts, err := hpa.Options()
		if err != nil {
			return err
		}
		clients, err := kube.Connect()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.Context(), kube.Timeout)
		defer cancel()
		v, err := cluster.ReadHPA(ctx, clients.Typed, clients.Namespace, hpa.Name)
		if err != nil {
			return err
		}
		r, err := cluster.RecalculateHPA(v, opts)
		if err != nil {
			return err
		}
		return writeHPAReport(c.OutOrStdout(), output, r)
	}
	return c
}

func writeHPAReport(w io.Writer, format string, r *cluster.HPAReport) error {
	if format == "manifests" {
		return r.WriteManifest(w)
	}
	return writeAs(w, format, r, r.WriteTable)
}
