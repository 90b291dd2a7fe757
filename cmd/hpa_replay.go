package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/hpareplay"
	"github.com/proxysizer/proxysizer/hpareplay/collect"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/results"
)

// hpaReplayFlags are hpa's --replay and the flags only it reads.
type hpaReplayFlags struct {
	on          bool
	out         string
	promURL     string
	promToken   string
	promTimeout time.Duration
	end         string
	req         collect.Request
	podStartup  time.Duration
}

// replayOnlyFlags are the flags that need --replay.
var replayOnlyFlags = []string{"replay-out", "prometheus-url", "prometheus-token-file", "prometheus-timeout", "replay-window", "replay-end",
	"replay-step", "replay-rate-window", "replay-pod-startup", "horizontal-pod-autoscaler-sync-period", "horizontal-pod-autoscaler-tolerance",
	"horizontal-pod-autoscaler-downscale-stabilization", "horizontal-pod-autoscaler-cpu-initialization-period", "horizontal-pod-autoscaler-initial-readiness-delay"}

func (f *hpaReplayFlags) register(fl *pflag.FlagSet) {
	f.req = collect.DefaultRequest()
	c := &f.req.Controller
	fl.BoolVar(&f.on, "replay", false, "replay the HPA on its Deployment's Prometheus history three times (the current target, the recommended one, the app-only reference) and print the replicas of each run")
	fl.StringVar(&f.out, "replay-out", "", "with --replay: also write the replay's page (replicas over time, HTML) to this file")
	fl.StringVar(&f.promURL, "prometheus-url", "", "with --replay: Prometheus holding cAdvisor's container_cpu_usage_seconds_total (and kube-state-metrics' pod series, if scraped)")
	fl.StringVar(&f.promToken, "prometheus-token-file", "", "with --replay: file holding a bearer token for Prometheus, read at each request (never printed nor saved)")
	fl.DurationVar(&f.promTimeout, "prometheus-timeout", 2*time.Minute, "with --replay: how long one PromQL query may take")
	fl.DurationVar(&f.req.Window, "replay-window", f.req.Window, "with --replay: the history's length, ending at --replay-end")
	fl.StringVar(&f.end, "replay-end", "", "with --replay: the history's end, an RFC 3339 time such as 2026-01-05T10:30:00Z (default: now)")
	fl.DurationVar(&f.req.Step, "replay-step", f.req.Step, "with --replay: the history's resolution: one sample per step (metrics-server's --metric-resolution)")
	fl.DurationVar(&f.req.RateWindow, "replay-rate-window", f.req.RateWindow, "with --replay: the range of rate() over the CPU counters (at least two scrapes)")
	fl.DurationVar(&f.podStartup, "replay-pod-startup", 0, fmt.Sprintf("with --replay: how long a pod the replay adds takes to turn Ready (default: measured from kube-state-metrics, else %s)", hpareplay.DefaultPodStartup))
	fl.DurationVar(&c.SyncPeriod, "horizontal-pod-autoscaler-sync-period", c.SyncPeriod, "with --replay: kube-controller-manager's flag of the same name")
	fl.Float64Var(&c.Tolerance, "horizontal-pod-autoscaler-tolerance", c.Tolerance, "with --replay: kube-controller-manager's flag of the same name")
	fl.DurationVar(&c.DownscaleStabilization, "horizontal-pod-autoscaler-downscale-stabilization", c.DownscaleStabilization, "with --replay: kube-controller-manager's flag of the same name")
	fl.DurationVar(&c.CPUInitializationPeriod, "horizontal-pod-autoscaler-cpu-initialization-period", c.CPUInitializationPeriod, "with --replay: kube-controller-manager's flag of the same name")
	fl.DurationVar(&c.InitialReadinessDelay, "horizontal-pod-autoscaler-initial-readiness-delay", c.InitialReadinessDelay, "with --replay: kube-controller-manager's flag of the same name")
}

// validate checks the replay flags' form; set says which were given.
func (f *hpaReplayFlags) validate(set func(string) bool, output string) error {
	if !f.on {
		for _, name := range replayOnlyFlags {
			if set(name) {
				return flagError(name, "needs --replay")
			}
		}
		if output == "csv" {
			return flagError("output", "csv needs --replay (the replicas of each run per sync)")
		}
		return nil
	}
	if output == "manifests" {
		return flagError("output", "manifests is not a replay's output: expected table, json, yaml or csv with --replay")
	}
	if f.promURL == "" {
		return flagError("prometheus-url", "required with --replay: the Prometheus holding the pods' CPU, e.g. http://prometheus.monitoring:9090")
	}
	if u, err := url.Parse(f.promURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return flagError("prometheus-url", "expected an http(s) URL, got %q", f.promURL)
	}
	if f.promToken != "" {
		if err := safefile.CheckReadable(f.promToken, safefile.MaxToken); err != nil {
			return flagError("prometheus-token-file", "expected a readable file: %v", err)
		}
	}
	c := f.req.Controller
	switch {
	case f.promTimeout <= 0:
		return flagError("prometheus-timeout", "expected a duration > 0 such as 2m, got %s", f.promTimeout)
	case f.req.Step <= 0:
		return flagError("replay-step", "expected a duration > 0 such as 15s, got %s", f.req.Step)
	case f.req.Window < 2*f.req.Step:
		return flagError("replay-window", "expected a duration of at least two steps (%s), got %s", 2*f.req.Step, f.req.Window)
	case f.req.Window/f.req.Step > maxReplaySteps:
		return flagError("replay-window", "expected at most %d steps of %s, got %s: raise --replay-step", maxReplaySteps, f.req.Step, f.req.Window)
	case f.req.RateWindow <= 0:
		return flagError("replay-rate-window", "expected a duration > 0 such as 1m, got %s", f.req.RateWindow)
	case f.podStartup < 0:
		return flagError("replay-pod-startup", "expected a duration >= 0 such as 30s, got %s", f.podStartup)
	case c.SyncPeriod <= 0:
		return flagError("horizontal-pod-autoscaler-sync-period", "expected a duration > 0 such as 15s, got %s", c.SyncPeriod)
	case c.Tolerance < 0 || c.Tolerance >= 1:
		return flagError("horizontal-pod-autoscaler-tolerance", "expected a ratio within [0, 1) such as 0.1, got %g", c.Tolerance)
	case c.DownscaleStabilization < 0:
		return flagError("horizontal-pod-autoscaler-downscale-stabilization", "expected a duration >= 0 such as 5m, got %s", c.DownscaleStabilization)
	case c.CPUInitializationPeriod < 0:
		return flagError("horizontal-pod-autoscaler-cpu-initialization-period", "expected a duration >= 0 such as 5m, got %s", c.CPUInitializationPeriod)
	case c.InitialReadinessDelay < 0:
		return flagError("horizontal-pod-autoscaler-initial-readiness-delay", "expected a duration >= 0 such as 30s, got %s", c.InitialReadinessDelay)
	}
	if f.end != "" {
		end, err := time.Parse(time.RFC3339, f.end)
		if err != nil {
			return flagError("replay-end", "expected an RFC 3339 time such as 2026-01-05T10:30:00Z, got %q", f.end)
		}
		f.req.End = end
	}
	if f.out != "" {
		if st, err := os.Stat(filepath.Dir(f.out)); err != nil || !st.IsDir() {
			return flagError("replay-out", "expected a file in an existing directory, got %q", f.out)
		}
		if err := safefile.CheckWritable(f.out); err != nil {
			return flagError("replay-out", "expected a file to write: %v", err)
		}
	}
	f.req.PodStartup = f.podStartup
	return nil
}

// maxReplaySteps bounds a replay's history (a week at 15 s is 40,320).
const maxReplaySteps = 200_000

// runReplay reads the HPA's history, replays it and renders the report;
// the page, when asked for, is written whole or not at all.
func (f *hpaReplayFlags) runReplay(c *cobra.Command, clients *cluster.Clients, name string, opts cluster.HPAOptions, timeout time.Duration, output string) error {
	pc, err := prom.New(prom.Config{URL: f.promURL, TokenFile: f.promToken, QueryTimeout: f.promTimeout})
	if err != nil {
		return flagError("prometheus-url", "%v", err)
	}
	req := f.req
	req.Namespace, req.HPA, req.HPAOptions = clients.Namespace, name, opts
	// five range queries (more in parts for a long window) after the reads
	ctx, cancel := context.WithTimeout(c.Context(), timeout+5*f.promTimeout)
	defer cancel()
	res, err := collect.Replay(ctx, collect.Sources{Kube: clients.Typed, Prometheus: pc}, req)
	if err != nil {
		return err
	}
	if res.Recommendation.SidecarBasis == collect.BasisGiven {
		res.Recommendation.SidecarBasis = "--sidecar-cpu-usage"
	}
	if f.out != "" {
		var page bytes.Buffer
		if err := charts.RenderReplay(&page, res.Report, time.Now()); err != nil {
			return err
		}
		if err := results.WriteFileAtomic(f.out, page.Bytes()); err != nil {
			return flagError("replay-out", "writing the replay page: %v", err)
		}
	}
	return writeReplay(c.OutOrStdout(), output, res)
}

func writeReplay(w io.Writer, format string, r *collect.Result) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "yaml":
		return writeYAML(w, r)
	case "csv":
		return hpareplay.WriteCSV(w, r.Report)
	}
	return hpareplay.WriteTable(w, r.Report)
}
