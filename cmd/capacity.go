package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/capacity/collect"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/safefile"
	psmodel "github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newCapacityCmd) }

type capacityFlags struct {
	kube             kubeReadFlags
	namespaces       []string
	allNamespaces    bool
	prom             promFlags
	window           string
	rateWindow       string
	quantile         float64
	at               string
	profile          string
	authz            []string
	headroom         float64
	cpuLimit         string
	memoryLimitRatio float64
	istioNamespace   string
	clusterDomain    string
	output           string
	out              string
}

// promFlags are the Prometheus connection flags of capacity and check.
type promFlags struct {
	url, tokenFile string
	queryTimeout   time.Duration
}

func (p *promFlags) register(c *cobra.Command, what string) {
	fl := c.Flags()
	fl.StringVar(&p.url, "prometheus-url", "", "Prometheus holding Istio's istio_requests_total and cAdvisor's container series"+what)
	fl.StringVar(&p.tokenFile, "prometheus-token-file", "", "file holding a bearer token for Prometheus, read at each request (never printed nor saved)")
	fl.DurationVar(&p.queryTimeout, "prometheus-timeout", 2*time.Minute, "how long one PromQL query may take")
}

// validate checks the flags' form; required says --prometheus-url must be given.
func (p promFlags) validate(set func(string) bool, required bool) error {
	if p.url == "" {
		if required {
			return flagError("prometheus-url", "required: the Prometheus holding Istio's and cAdvisor's series, e.g. http://prometheus.istio-system:9090")
		}
		for _, only := range []string{"prometheus-token-file", "prometheus-timeout"} {
			if set(only) {
				return flagError(only, "needs --prometheus-url")
			}
		}
		return nil
	}
	if u, err := url.Parse(p.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return flagError("prometheus-url", "expected an http(s) URL, got %q", p.url)
	}
	if p.tokenFile != "" {
		if err := safefile.CheckReadable(p.tokenFile, safefile.MaxToken); err != nil {
			return flagError("prometheus-token-file", "expected a readable file: %v", err)
		}
	}
	if p.queryTimeout <= 0 || p.queryTimeout > time.Hour {
		return flagError("prometheus-timeout", "expected a duration > 0 and at most 1h, such as 2m, got %s", p.queryTimeout)
	}
	return nil
}

func (p promFlags) client() (*prom.Client, error) {
	return prom.New(prom.Config{URL: p.url, TokenFile: p.tokenFile, QueryTimeout: p.queryTimeout})
}

// maxCapacityWindow bounds --window: a year of history, beyond any
// Prometheus retention a fleet keeps.
const maxCapacityWindow = 365 * 24 * time.Hour

// capacityOutputs are the formats -o prints.
var capacityOutputs = []string{"table", "json", "csv", "markdown", "html"}

func newCapacityCmd() *cobra.Command {
	var f capacityFlags
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
		RunE: func(c *cobra.Command, _ []string) error {
			o, err := f.options(c)
			if err != nil {
				return err
			}
			clients, err := f.kube.Connect()
			if err != nil {
				return err
			}
			pc, err := f.prom.client()
			if err != nil {
				return flagError("prometheus-url", "%v", err)
			}
			if len(o.scope.Namespaces) == 0 && !f.allNamespaces {
				o.scope.Namespaces = []string{clients.Namespace}
			}
			ctx, cancel := context.WithTimeout(c.Context(), f.kube.Timeout)
			defer cancel()
			plan, err := collect.Plan(ctx, collect.Sources{Kube: clients.Typed, Dynamic: clients.Dynamic, Prometheus: pc}, o.scope, o.analysis)
			if err != nil {
				return err
			}
			if f.out != "" {
				return writeCapacityDir(c, f.out, plan)
			}
			return writeCapacity(c.OutOrStdout(), f.output, plan.Report)
		},
	}
	fl := c.Flags()
	f.kube.register(fl, 10*time.Minute, "how long the whole run (the cluster's listings and the queries) may take")
	fl.StringSliceVar(&f.namespaces, "namespaces", nil, "plan these namespaces, comma-separated (default: -n's, else the context's)")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "plan every namespace of the cluster")
	f.prom.register(c, " (required)")
	fl.StringVar(&f.window, "window", "7d", "how much history to read, ending --at: 7d, 36h, 2w (Prometheus durations)")
	fl.StringVar(&f.rateWindow, "rate-window", "5m", "the range of each rate(): the peak is taken over rates of this width, evaluated every this long; at least 4 scrape intervals")
	fl.Float64Var(&f.quantile, "peak-quantile", 0.99, "the peak: this quantile over the window of the per-pod rates (1 = the maximum)")
	fl.StringVar(&f.at, "at", "", "the end of the window, RFC 3339 (default: now)")
	fl.StringVar(&f.profile, "profile", profiles.DefaultName, "cost profile: a reference name (proxysizer profiles list) or a profile YAML measured by sweep")
	fl.StringSliceVar(&f.authz, "authz-upstreams", nil, "services whose calls are authn/z calls (FQDN, or NAME.NAMESPACE), comma-separated")
	fl.Float64Var(&f.headroom, "headroom", sizing.DefaultHeadroom, "fraction added above the measured peak")
	fl.StringVar(&f.cpuLimit, "cpu-limit", "auto", "CPU limit policy: auto (one core per worker), none, or a quantity")
	fl.Float64Var(&f.memoryLimitRatio, "memory-limit-ratio", sizing.DefaultMemoryLimitRatio, "memory limit as a multiple of the request")
	fl.StringVar(&f.istioNamespace, "istio-namespace", "istio-system", "Istio's root namespace: its istio and istio-sidecar-injector ConfigMaps, and what a scoped Sidecar keeps")
	fl.StringVar(&f.clusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain (services' FQDNs)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format on stdout: "+strings.Join(capacityOutputs, ", "))
	fl.StringVar(&f.out, "out", "", "write every format and the patches into this directory (report.html, report.md, report.json, workloads.csv, patches/) instead of stdout")
	return c
}

type capacityOptions struct {
	scope    collect.Scope
	analysis capacity.Options
}

// options checks every flag and builds the run's options.
func (f *capacityFlags) options(c *cobra.Command) (capacityOptions, error) {
	var o capacityOptions
	set := c.Flags().Changed
	if err := f.kube.validate(); err != nil {
		return o, err
	}
	if err := f.prom.validate(set, true); err != nil {
		return o, err
	}
	if !oneOf(f.output, capacityOutputs...) {
		return o, flagError("output", "expected %s, got %q", strings.Join(capacityOutputs, ", "), f.output)
	}
	if set("output") && f.out != "" {
		return o, flagError("out", "writes every format: give either -o or --out")
	}
	switch {
	case f.allNamespaces && (set("namespaces") || set("namespace")):
		return o, flagError("all-namespaces", "plans every namespace: it cannot be combined with -n or --namespaces")
	case set("namespaces") && set("namespace"):
		return o, flagError("namespaces", "give either -n or --namespaces")
	}
	for _, ns := range f.namespaces {
		if len(validation.IsDNS1123Label(ns)) > 0 {
			return o, flagError("namespaces", "expected namespace names, got %q", ns)
		}
	}
	o.scope.Namespaces = f.namespaces
	if f.kube.Namespace != "" && !f.allNamespaces {
		o.scope.Namespaces = []string{f.kube.Namespace}
	}
	window, err := model.ParseDuration(f.window)
	if err != nil || window <= 0 || time.Duration(window) > maxCapacityWindow {
		return o, flagError("window", "expected a duration > 0 and at most 365d, such as 7d or 36h, got %q", f.window)
	}
	rate, err := model.ParseDuration(f.rateWindow)
	if err != nil || rate <= 0 || rate > window {
		return o, flagError("rate-window", "expected a duration > 0 and at most --window, such as 5m, got %q", f.rateWindow)
	}
	if !(f.quantile > 0 && f.quantile <= 1) {
		return o, flagError("peak-quantile", "expected a quantile within (0, 1], such as 0.99, got %v", f.quantile)
	}
	at := time.Now()
	if f.at != "" {
		if at, err = time.Parse(time.RFC3339, f.at); err != nil {
			return o, flagError("at", "expected an RFC 3339 time such as 2026-11-30T00:00:00Z, got %q", f.at)
		}
	}
	o.scope.Telemetry = prom.FleetQuery{Window: time.Duration(window), RateWindow: time.Duration(rate), Quantile: f.quantile, At: at}
	if len(validation.IsDNS1123Label(f.istioNamespace)) > 0 {
		return o, flagError("istio-namespace", "expected a namespace name, got %q", f.istioNamespace)
	}
	if len(validation.IsDNS1123Subdomain(f.clusterDomain)) > 0 {
		return o, flagError("cluster-domain", "expected a DNS domain such as cluster.local, got %q", f.clusterDomain)
	}
	o.scope.IstioNamespace, o.scope.ClusterDomain = f.istioNamespace, f.clusterDomain
	if o.analysis.Profile, err = profiles.Load(f.profile); err != nil {
		return o, flagError("profile", "%v", err)
	}
	for _, a := range f.authz {
		fqdn, err := capacity.ServiceFQDN(a, f.clusterDomain)
		if err != nil {
			return o, flagError("authz-upstreams", "%v", err)
		}
		o.analysis.AuthzUpstreams = append(o.analysis.AuthzUpstreams, fqdn)
	}
	if !nonNegative(f.headroom) || f.headroom > sizing.MaxHeadroom {
		return o, flagError("headroom", "expected a fraction between 0 and %d (0.15 = 15%%), got %v", sizing.MaxHeadroom, f.headroom)
	}
	if !psmodel.Finite(f.memoryLimitRatio) || f.memoryLimitRatio < 1 || f.memoryLimitRatio > sizing.MaxMemoryLimitRatio {
		return o, flagError("memory-limit-ratio", "expected a number within 1..%d (the limit cannot be below the request), got %v", sizing.MaxMemoryLimitRatio, f.memoryLimitRatio)
	}
	o.analysis.Headroom, o.analysis.MemoryLimitRatio = f.headroom, f.memoryLimitRatio
	o.analysis.Names = input.Names{sizing.FieldSweep: "proxysizer sweep", sizing.FieldProfile: "--profile", sizing.FieldHeadroom: "--headroom",
		sizing.FieldCPULimit: "--cpu-limit", sizing.FieldMemoryLimitRatio: "--memory-limit-ratio"}
	if o.analysis.CPULimit, err = capacityCPULimit(f.cpuLimit); err != nil {
		return o, err
	}
	if f.out != "" {
		if err := capacity.CheckOutputDir(f.out); err != nil {
			return o, flagError("out", "%v", err)
		}
	}
	return o, nil
}

// capacityCPULimit reads the CPU-limit policy as plan spells it.
func capacityCPULimit(s string) (sizing.CPULimit, error) {
	switch s {
	case "auto":
		return sizing.CPULimit{Mode: sizing.CPULimitAuto}, nil
	case "none":
		return sizing.CPULimit{Mode: sizing.CPULimitNone}, nil
	}
	m, err := quantity.ParseMillicores(s)
	if err != nil {
		return sizing.CPULimit{}, flagError("cpu-limit", "expected auto, none, or a CPU quantity within %s such as 2 or 1500m, got %q", quantity.CPURange, s)
	}
	return sizing.CPULimit{Mode: sizing.CPULimitFixed, Millicores: m}, nil
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

// writeCapacityDir writes every format and the patches, each file
// atomically, and lists them.
func writeCapacityDir(c *cobra.Command, dir string, plan *collect.Result) error {
	var html bytes.Buffer
	if err := charts.RenderCapacity(&html, plan.Report); err != nil {
		return err
	}
	files, err := capacity.Files(plan.Fleet, plan.Report)
	if err != nil {
		return err
	}
	files = append(files, capacity.File{Path: capacity.HTMLFile, Content: html.Bytes()})
	written, err := capacity.WriteFiles(dir, files)
	if err != nil {
		return flagError("out", "%v", err)
	}
	out := c.OutOrStdout()
	r := plan.Report
	fmt.Fprintf(out, "Capacity plan of %d workload(s): %d sized; CPU requested %.2f cores, recommended %.2f; memory requested %.0f MiB, recommended %.0f MiB\n",
		len(r.Workloads), r.Total.Sized, r.Total.CPURequestedMillicores/1000, r.Total.CPURecommendedMillicores/1000,
		r.Total.MemoryRequestedBytes/(1<<20), r.Total.MemoryRecommendedBytes/(1<<20))
	for _, p := range written {
		fmt.Fprintf(out, "  %s\n", p)
	}
	return nil
}
