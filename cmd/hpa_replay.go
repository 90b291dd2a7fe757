package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/hpareplay"
	"github.com/proxysizer/proxysizer/hpareplay/collect"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/results"
)

// replayFlags are hpa's --replay, the page it writes, and the replay's
// request, whose flags only --replay reads.
type replayFlags struct {
	on     bool
	page   string
	req    collect.Request
	fields fieldFlags
}

const replayOut = "replay-out"

func (f *replayFlags) register(fl *pflag.FlagSet) {
	f.req = collect.DefaultRequest()
	r, c := &f.req, &f.req.Controller
	fl.BoolVar(&f.on, "replay", false, "replay the HPA on its Deployment's Prometheus history three times (the current target, the recommended one, the app-only reference) and print the replicas of each run")
	fl.StringVar(&f.page, replayOut, "", "with --replay: also write the replay's page (replicas over time, HTML) to this file")
	b := newFieldFlags(fl)
	f.fields = b
	w := "with --replay: "
	bindPromFlags(b, &r.Prometheus, w, "Prometheus holding cAdvisor's container_cpu_usage_seconds_total (and kube-state-metrics' pod series, if scraped)")
	b.bind(collect.FieldWindow, &r.Window, "replay-window", w+"the history's length, ending at --replay-end")
	b.bind(collect.FieldEnd, &r.End, "replay-end", w+"the history's end, an RFC 3339 time such as 2026-01-05T10:30:00Z (default: now)")
	b.bind(collect.FieldStep, &r.Step, "replay-step", w+"the history's resolution: one sample per step (metrics-server's --metric-resolution)")
	b.bind(collect.FieldRateWindow, &r.RateWindow, "replay-rate-window", w+"the range of rate() over the CPU counters (at least two scrapes)")
	b.bind(collect.FieldPodStartup, &r.PodStartup, "replay-pod-startup", fmt.Sprintf(w+"how long a pod the replay adds takes to turn Ready (default: measured from kube-state-metrics, else %s)", hpareplay.DefaultPodStartup))
	same := w + "kube-controller-manager's flag of the same name"
	b.bind(collect.FieldSyncPeriod, &c.SyncPeriod, "horizontal-pod-autoscaler-sync-period", same)
	b.bind(collect.FieldTolerance, &c.Tolerance, "horizontal-pod-autoscaler-tolerance", same)
	b.bind(collect.FieldDownscaleStabilization, &c.DownscaleStabilization, "horizontal-pod-autoscaler-downscale-stabilization", same)
	b.bind(collect.FieldCPUInitializationPeriod, &c.CPUInitializationPeriod, "horizontal-pod-autoscaler-cpu-initialization-period", same)
	b.bind(collect.FieldInitialReadinessDelay, &c.InitialReadinessDelay, "horizontal-pod-autoscaler-initial-readiness-delay", same)
}

// checkMode says which flags and formats need --replay, or are not the
// replay's.
func (f *replayFlags) checkMode(fl *pflag.FlagSet, output string) error {
	if !f.on {
		var err error
		fl.Visit(func(g *pflag.Flag) {
			if err == nil && f.owns(g.Name) {
				err = flagError(g.Name, "needs --replay")
			}
		})
		if err == nil && output == "csv" {
			err = flagError("output", "csv needs --replay (the replicas of each run per sync)")
		}
		return err
	}
	if output == "manifests" {
		return flagError("output", "manifests is not a replay's output: expected table, json, yaml or csv with --replay")
	}
	if f.page != "" {
		if st, err := os.Stat(filepath.Dir(f.page)); err != nil || !st.IsDir() {
			return flagError(replayOut, "expected a file in an existing directory, got %q", f.page)
		}
		if err := safefile.CheckWritable(f.page); err != nil {
			return flagError(replayOut, "expected a file to write: %v", err)
		}
	}
	return nil
}

// owns says whether only the replay reads the flag.
func (f *replayFlags) owns(flag string) bool {
	return flag == replayOut || slices.Contains(slices.Collect(maps.Values(f.fields.flags)), flag)
}

// run checks the replay's request, reads the HPA's history, replays it
// and renders the report; the page, when asked for, is written whole or
// not at all.
func (f *replayFlags) run(c *cobra.Command, kube kubeReadFlags, hpa cluster.HPARequest, output string) error {
	r := f.req
	r.HPA, r.Given, r.Names = hpa, f.fields.given(), f.fields.names(input.Names{collect.FieldReplay: "--replay"})
	opts, err := r.Options()
	if err != nil {
		return err
	}
	clients, pc, err := connectWithPrometheus(kube, r.Prometheus, r.Names)
	if err != nil {
		return err
	}
	opts.Namespace = clients.Namespace
	// five range queries (more in parts for a long window) after the reads
	ctx, cancel := context.WithTimeout(c.Context(), kube.Timeout+5*r.Prometheus.QueryTimeout)
	defer cancel()
	res, err := collect.Replay(ctx, collect.Sources{Kube: clients.Typed, Prometheus: pc}, opts)
	if err != nil {
		return err
	}
	if f.page != "" {
		var page bytes.Buffer
		if err := charts.RenderReplay(&page, res.Report, time.Now()); err != nil {
			return err
		}
		if err := results.WriteFileAtomic(f.page, page.Bytes()); err != nil {
			return flagError(replayOut, "writing the replay page: %v", err)
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
