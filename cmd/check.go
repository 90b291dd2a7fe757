package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	utilversion "k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/check"
	"github.com/proxysizer/proxysizer/internal/safefile"
)

func init() { register(newCheckCmd) }

// exitFindings is check's status when findings reach --fail-on: distinct
// from a failure while running (1) and bad input (2).
const exitFindings = 3

// findingsError carries exit status 3 after the report was written.
type findingsError struct {
	n         int
	threshold string
}

func (e findingsError) Error() string {
	return fmt.Sprintf("%d finding(s) at or above %s (--fail-on %s)", e.n, e.threshold, e.threshold)
}

// ExitCode is the status Execute returns for this error.
func (e findingsError) ExitCode() int { return exitFindings }

type checkFlags struct {
	kube           kubeReadFlags
	files          []string
	meshConfig     string
	k8sVersion     string
	istioVersion   string
	output         string
	failOn         string
	only, skip     []string
	allNamespaces  bool
	istioNamespace string
	prom           promFlags
	telemetry      string
}

func newCheckCmd() *cobra.Command {
	var f checkFlags
	c := &cobra.Command{
		Use:   "check [KIND/NAME ...]",
		Short: "Check manifests or a cluster for the Istio onboarding pitfalls (lifecycle, HPA, retries, outlier detection, scope)",
		Long: `check runs proxysizer's catalogue of onboarding checks (docs/checks.md) over
manifests (-f FILE, a directory, or - for stdin: helm template . | proxysizer
check -f -) or, without -f, over a live cluster (-n NS, or -A for every
namespace). Arguments such as deployment/web keep only those workloads'
findings. Each finding has its check ID, a severity, what breaks, the fix as a
ready patch (-o fixes prints them) and its sources.

Exit status: 0 when no finding reaches --fail-on (or without it), 3 when one
does, 2 for bad input (flags, unreadable or undecodable files), 1 when the
cluster cannot be read.`,
		Example: `  proxysizer check -f k8s/ --mesh-config istio-mesh.yaml
  helm template . | proxysizer check -f - --fail-on warning -o sarif > check.sarif
  proxysizer check -n shop deployment/web
  proxysizer check -A --fail-on error`,
		RunE: func(c *cobra.Command, args []string) error {
			opts, workloads, err := f.validate(c.Flags().Changed, args)
			if err != nil {
				return err
			}
			set, ns, err := f.load(c)
			if err != nil {
				return err
			}
			for _, w := range workloads {
				opts.Workloads = append(opts.Workloads, w.kind+" "+ns+"/"+w.name)
			}
			r, err := check.Run(set, opts)
			if err != nil {
				return err
			}
			if err := writeCheckReport(c.OutOrStdout(), f.output, r); err != nil {
				return err
			}
			if f.failOn != "" {
				threshold, _ := check.ParseSeverity(f.failOn)
				if n := r.Failing(threshold); n > 0 {
					return findingsError{n: n, threshold: f.failOn}
				}
			}
			return nil
		},
	}
	fl := c.Flags()
	f.kube.register(fl, 60*time.Second, "how long reading the cluster may take")
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "manifests to check: a file, a directory (its .yaml, .yml and .json files), or - for stdin; repeatable. Without it the live cluster is checked")
	fl.StringVar(&f.meshConfig, "mesh-config", "", "Istio's mesh configuration: the mesh YAML (the istio ConfigMap's mesh key), the istio ConfigMap, an IstioOperator, or an istiod Helm values file (default: the cluster's istio ConfigMap live, Istio's defaults offline)")
	fl.StringVar(&f.k8sVersion, "k8s-version", "", "the cluster's Kubernetes version, e.g. 1.30 (default: the API server's live, unknown offline)")
	fl.StringVar(&f.istioVersion, "istio-version", "", "Istio's version, e.g. 1.26 (default: istiod's image tag live, the mesh configuration's tag offline)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json, sarif (SARIF 2.1.0) or fixes (the patches and manifests, merged per object)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit with status 3 when a finding is at or above this severity: warning or error (default: never)")
	fl.StringSliceVar(&f.only, "only", nil, "run only these checks (IDs such as PS101, or names), comma-separated")
	fl.StringSliceVar(&f.skip, "skip", nil, "leave these checks out (IDs or names), comma-separated")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "check every namespace of the cluster")
	fl.StringVar(&f.istioNamespace, "istio-namespace", "istio-system", "the namespace of istiod and its ConfigMaps (live)")
	f.prom.register(c, " (live): PS402 then compares the clusters a proxy holds with the services its workload called")
	fl.StringVar(&f.telemetry, "telemetry-window", "7d", "with --prometheus-url: the window of traffic that says which services a workload calls")
	return c
}

var workloadKinds = map[string]string{"deployment": "Deployment", "deploy": "Deployment", "statefulset": "StatefulSet", "sts": "StatefulSet"}

// workloadArg is one KIND/NAME argument.
type workloadArg struct{ kind, name string }

func (f *checkFlags) validate(set func(string) bool, args []string) (check.Options, []workloadArg, error) {
	var o check.Options
	var ws []workloadArg
	if err := f.kube.validate(); err != nil {
		return o, nil, err
	}
	if !oneOf(f.output, "table", "json", "sarif", "fixes") {
		return o, nil, flagError("output", "expected table, json, sarif or fixes, got %q", f.output)
	}
	if f.failOn != "" && !oneOf(f.failOn, "warning", "error") {
		return o, nil, flagError("fail-on", "expected warning or error, got %q", f.failOn)
	}
	for flag, v := range map[string]string{"k8s-version": f.k8sVersion, "istio-version": f.istioVersion} {
		if v == "" {
			continue
		}
		if _, err := utilversion.ParseGeneric(strings.TrimPrefix(v, "v")); err != nil {
			return o, nil, flagError(flag, "expected a version such as 1.30, got %q", v)
		}
	}
	for flag, ids := range map[string][]string{"only": f.only, "skip": f.skip} {
		for _, id := range ids {
			if _, ok := check.Lookup(id); !ok {
				return o, nil, flagError(flag, "unknown check %q: expected IDs from %s", id, strings.Join(check.IDs(), ", "))
			}
		}
	}
	if len(f.files) > 0 && f.allNamespaces {
		return o, nil, flagError("all-namespaces", "checks a cluster: it cannot be combined with -f")
	}
	if err := f.prom.validate(set, false); err != nil {
		return o, nil, err
	}
	if f.prom.url != "" && len(f.files) > 0 {
		return o, nil, flagError("prometheus-url", "reads a live cluster's telemetry: it cannot be combined with -f")
	}
	if w, err := model.ParseDuration(f.telemetry); err != nil || w <= 0 {
		return o, nil, flagError("telemetry-window", "expected a duration > 0 such as 7d, got %q", f.telemetry)
	} else if f.prom.url == "" && set("telemetry-window") {
		return o, nil, flagError("telemetry-window", "needs --prometheus-url")
	}
	if len(validation.IsDNS1123Label(f.istioNamespace)) > 0 {
		return o, nil, flagError("istio-namespace", "expected a namespace name, got %q", f.istioNamespace)
	}
	if f.meshConfig != "" {
		if st, err := os.Stat(f.meshConfig); err != nil || st.IsDir() {
			return o, nil, flagError("mesh-config", "expected a readable file, got %q", f.meshConfig)
		}
	}
	stdin := 0
	for _, p := range f.files {
		if p == check.StdinName {
			stdin++
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return o, nil, flagError("filename", "expected a readable file or directory, got %q", p)
		}
	}
	if stdin > 1 {
		return o, nil, flagError("filename", "stdin (-) can be given once")
	}
	for _, a := range args {
		kind, name, ok := strings.Cut(a, "/")
		k, known := workloadKinds[strings.ToLower(kind)]
		if !ok || !known || len(validation.IsDNS1123Subdomain(name)) > 0 {
			return o, nil, badInput("workload %q: expected deployment/NAME or statefulset/NAME", a)
		}
		ws = append(ws, workloadArg{k, name})
	}
	o.Only, o.Skip = f.only, f.skip
	return o, ws, nil
}

// load reads the set, from the manifests or the cluster, and says which
// namespace the KIND/NAME arguments are in.
func (f *checkFlags) load(c *cobra.Command) (*check.Set, string, error) {
	var mesh *check.Mesh
	if f.meshConfig != "" {
		data, err := safefile.ReadStream(f.meshConfig, safefile.MaxManifest)
		if err != nil {
			return nil, "", flagError("mesh-config", "%v", err)
		}
		if mesh, err = check.ParseMesh(data, f.meshConfig); err != nil {
			return nil, "", flagError("mesh-config", "%v", err)
		}
	}
	var set *check.Set
	ns := f.kube.Namespace
	if len(f.files) > 0 {
		if ns == "" {
			ns = "default"
		}
		var err error
		if set, err = check.ReadPaths(f.files, c.InOrStdin(), ns); err != nil {
			return nil, "", badInput("%v", err)
		}
		if mesh != nil {
			set.Mesh = mesh
		}
		if set.Mesh != nil && set.Mesh.IstioVersion != nil {
			set.Env.IstioVersion, set.Env.IstioSource = set.Mesh.IstioVersion, "the mesh configuration's tag"
		}
	} else {
		clients, err := f.kube.Connect()
		if err != nil {
			return nil, "", err
		}
		ns = clients.Namespace
		scope := check.LiveScope{IstioNamespace: f.istioNamespace, Mesh: mesh, AllNamespaces: f.allNamespaces}
		if !f.allNamespaces {
			scope.Namespaces = []string{ns}
		}
		ctx, cancel := context.WithTimeout(c.Context(), f.kube.Timeout)
		defer cancel()
		if f.prom.url != "" {
			if scope.Telemetry, err = f.destinations(ctx, scope.Namespaces); err != nil {
				return nil, "", err
			}
		}
		if set, err = check.LoadCluster(ctx, clients.Typed, clients.Dynamic, scope); err != nil {
			return nil, "", err
		}
	}
	for flag, v := range map[string]string{"k8s-version": f.k8sVersion, "istio-version": f.istioVersion} {
		if v == "" {
			continue
		}
		parsed, _ := utilversion.ParseGeneric(strings.TrimPrefix(v, "v"))
		if flag == "k8s-version" {
			set.Env.K8sVersion, set.Env.K8sSource = parsed, "--k8s-version"
		} else {
			set.Env.IstioVersion, set.Env.IstioSource = parsed, "--istio-version"
		}
	}
	return set, ns, nil
}

// destinations reads, in one query, the services every workload of the
// namespaces (nil: all) called over the telemetry window.
func (f *checkFlags) destinations(ctx context.Context, namespaces []string) (check.Telemetry, error) {
	pc, err := f.prom.client()
	if err != nil {
		return nil, flagError("prometheus-url", "%v", err)
	}
	w, _ := model.ParseDuration(f.telemetry)
	return pc.Destinations(ctx, namespaces, time.Duration(w), time.Now())
}

func writeCheckReport(w io.Writer, format string, r *check.Report) error {
	switch format {
	case "json":
		return check.WriteJSON(w, r)
	case "sarif":
		return check.WriteSARIF(w, r, version)
	case "fixes":
		return check.WriteFixes(w, r)
	}
	return check.WriteTable(w, r)
}
