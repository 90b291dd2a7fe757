package cmd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/capacity/collect"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newCapacityCmd) }

// capacityOutputs are the formats -o prints.
var capacityOutputs = []string{"table", "json", "csv", "markdown", "html"}

func newCapacityCmd() *cobra.Command {
	var kube kubeReadFlags
	r := collect.DefaultRequest()
	profile, output, out := profiles.DefaultName, capacityOutputs[0], ""
	c := &cobra.Command{
		Use:   "capacity",
		Short: "Plan every sidecar of a mesh from its own telemetry: load, usage, model error, recommendation, savings and risks",
		Long: `capacity reads a cluster's Deployments and StatefulSets (with their HPAs,
pods, sidecar annotations and Sidecar resources) and a Prometheus holding
Istio's istio_requests_total, Envoy's envoy_cluster_upstream_rq_retry and
cAdvisor's container series, and plans every workload's sidecar from its own
traffic: inbound requests per pod at the peak and the requests each inbound
call causes (outbound, authz, retries), measured over the window; the
sidecar's resources, concurrency, CPU, throttling and memory now; the
profile's predicted CPU against the measured; the recommendation of the same
sizing core as plan, with its reasons and the HPA target; the memory a
Sidecar scoped to the services it called would save; and across the fleet
the CPU and memory requested, recommended and used by namespace, and the
risks. It sends a fixed number of PromQL queries (9) whatever the fleet's
size, and only reads the cluster (deploy/rbac/proxysizer-capacity.yaml).

The peak is --peak-quantile of the --rate-window rates over --window, per
pod: quantile_over_time(0.99, (avg by (workload) (rate(x[5m])))[7d:5m]).`,
		Example: `  proxysizer capacity -n shop --prometheus-url http://prometheus.istio-system:9090
  proxysizer capacity -A --prometheus-url https://prom.example --prometheus-token-file /var/run/secrets/prom/token --out capacity/
  proxysizer capacity --namespaces shop,pay --prometheus-url http://localhost:9090 --window 14d --authz-upstreams ext-authz.auth -o csv`,
		Args: cobra.NoArgs,
	}
	fl := c.Flags()
	kube.register(fl, 10*time.Minute, "how long the whole run (the cluster's listings and the queries) may take")
	f := newFieldFlags(fl)
	f.bind(collect.FieldNamespaces, &r.Namespaces, "namespaces", "plan these namespaces, comma-separated (default: -n's, else the context's)")
	f.bindShort(collect.FieldAllNamespaces, &r.AllNamespaces, "all-namespaces", "A", "plan every namespace of the cluster")
	bindPromFlags(f, &r.Prometheus, "", "Prometheus holding Istio's istio_requests_total and cAdvisor's container series (required)")
	f.bind(collect.FieldWindow, &r.Window, "window", "how much history to read, ending --at: 7d, 36h, 2w (Prometheus durations)")
	f.bind(collect.FieldRateWindow, &r.RateWindow, "rate-window", "the range of each rate(): the peak is taken over rates of this width, evaluated every this long; at least 4 scrape intervals")
	f.bind(collect.FieldPeakQuantile, &r.PeakQuantile, "peak-quantile", "the peak: this quantile over the window of the per-pod rates (1 = the maximum)")
	f.bind(collect.FieldAt, &r.At, "at", "the end of the window, RFC 3339 (default: now)")
	f.bind(sizing.FieldProfile, &profile, "profile", "cost profile: a reference name (proxysizer profiles list) or a profile YAML measured by sweep")
	f.bind(collect.FieldAuthzUpstreams, &r.AuthzUpstreams, "authz-upstreams", "services whose calls are authn/z calls (FQDN, or NAME.NAMESPACE), comma-separated")
	f.bind(sizing.FieldHeadroom, &r.Headroom, "headroom", "fraction added above the measured peak")
	f.bind(sizing.FieldCPULimit, &r.CPULimit, "cpu-limit", "CPU limit policy: auto (one core per worker), none, or a quantity")
	f.bind(sizing.FieldMemoryLimitRatio, &r.MemoryLimitRatio, "memory-limit-ratio", "memory limit as a multiple of the request")
	f.bind(cluster.FieldIstioNamespace, &r.IstioNamespace, "istio-namespace", "Istio's root namespace: its istio and istio-sidecar-injector ConfigMaps, and what a scoped Sidecar keeps")
	f.bind(cluster.FieldClusterDomain, &r.ClusterDomain, "cluster-domain", "the cluster's DNS domain (services' FQDNs)")
	fl.StringVarP(&output, "output", "o", output, "output format on stdout: "+strings.Join(capacityOutputs, ", "))
	fl.StringVar(&out, "out", "", "write every format and the patches into this directory (report.html, report.md, report.json, workloads.csv, patches/) instead of stdout")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if err := kube.validate(); err != nil {
			return err
		}
		r.Namespace, r.Given, r.Names = kube.Namespace, f.given(), f.names(capacityNames)
		r.Given[collect.FieldNamespace] = c.Flags().Changed("namespace")
		if err := capacityOutput(output, out, c.Flags().Changed("output")); err != nil {
			return err
		}
		var err error
		if r.Profile, err = profiles.Load(profile); err != nil {
			return flagError("profile", "%v", err)
		}
		scope, opts, err := r.Check(time.Now())
		if err != nil {
			return err
		}
		clients, pc, err := connectWithPrometheus(kube, r.Prometheus, r.Names)
		if err != nil {
			return err
		}
		if len(scope.Namespaces) == 0 && !r.AllNamespaces {
			scope.Namespaces = []string{clients.Namespace}
		}
		ctx, cancel := context.WithTimeout(c.Context(), kube.Timeout)
		defer cancel()
		plan, err := collect.Plan(ctx, collect.Sources{Kube: clients.Typed, Dynamic: clients.Dynamic, Prometheus: pc}, scope, opts)
		if err != nil {
			return err
		}
		if out != "" {
			return writeCapacityDir(c.OutOrStdout(), out, plan)
		}
		return writeCapacity(c.OutOrStdout(), output, plan.Report)
	}
	return c
}

// capacityNames are the names capacity's flags do not give: -n, and the
// sweep as the command that measures a profile.
var capacityNames = input.Names{collect.FieldNamespace: "-n", sizing.FieldSweep: "proxysizer sweep"}

// capacityOutput checks -o and --out: one of the formats on stdout, or
// every format into a directory.
func capacityOutput(format, dir string, formatGiven bool) error {
	if !oneOf(format, capacityOutputs...) {
		return flagError("output", "expected %s, got %q", strings.Join(capacityOutputs, ", "), format)
	}
	if formatGiven && dir != "" {
		return flagError("out", "writes every format: give either -o or --out")
	}
	if dir != "" {
		if err := capacity.CheckOutputDir(dir); err != nil {
			return flagError("out", "%v", err)
		}
	}
	return nil
}

func writeCapacity(w io.Writer, format string, r *capacity.Report) error {
	var buf bytes.Buffer
	var err error
	switch format {
	case "json":
		err = capacity.WriteJSON(&buf, r)
	case "csv":
		err = capacity.WriteCSV(&buf, r)
	case "markdown":
		err = capacity.WriteMarkdown(&buf, r)
	case "html":
		err = charts.RenderCapacity(&buf, r)
	default:
		err = capacity.WriteTable(&buf, r)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// writeCapacityDir writes every format, the page and the patches, each
// file atomically, and lists them.
func writeCapacityDir(out io.Writer, dir string, plan *collect.Result) error {
	var html bytes.Buffer
	if err := charts.RenderCapacity(&html, plan.Report); err != nil {
		return err
	}
	files, err := capacity.Files(plan.Fleet, plan.Report)
	if err != nil {
		return err
	}
	written, err := capacity.WriteFiles(dir, append(files, capacity.File{Path: capacity.HTMLFile, Content: html.Bytes()}))
	if err != nil {
		return flagError("out", "%v", err)
	}
	capacity.WriteSummary(out, plan.Report, written)
	return nil
}
