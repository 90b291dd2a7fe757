package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/check"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/internal/input"
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

func newCheckCmd() *cobra.Command {
	var kube kubeReadFlags
	r := check.DefaultRequest()
	output := "table"
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
	}
	fl := c.Flags()
	kube.register(fl, 60*time.Second, "how long reading the cluster may take")
	f := newFieldFlags(fl)
	f.bindShort(check.FieldFiles, &r.Files, "filename", "f", "manifests to check: a file, a directory (its .yaml, .yml and .json files), or - for stdin; repeatable. Without it the live cluster is checked")
	f.bind(check.FieldMeshConfig, &r.MeshConfig, "mesh-config", "Istio's mesh configuration: the mesh YAML (the istio ConfigMap's mesh key), the istio ConfigMap, an IstioOperator, or an istiod Helm values file (default: the cluster's istio ConfigMap live, Istio's defaults offline)")
	f.bind(check.FieldK8sVersion, &r.K8sVersion, "k8s-version", "the cluster's Kubernetes version, e.g. 1.30 (default: the API server's live, unknown offline)")
	f.bind(check.FieldIstioVersion, &r.IstioVersion, "istio-version", "Istio's version, e.g. 1.26 (default: istiod's image tag live, the mesh configuration's tag offline)")
	fl.StringVarP(&output, "output", "o", output, "output format: table, json, sarif (SARIF 2.1.0) or fixes (the patches and manifests, merged per object)")
	f.bind(check.FieldFailOn, &r.FailOn, "fail-on", "exit with status 3 when a finding is at or above this severity: warning or error (default: never)")
	f.bind(check.FieldOnly, &r.Only, "only", "run only these checks (IDs such as PS101, or names), comma-separated")
	f.bind(check.FieldSkip, &r.Skip, "skip", "leave these checks out (IDs or names), comma-separated")
	f.bindShort(check.FieldAllNamespaces, &r.AllNamespaces, "all-namespaces", "A", "check every namespace of the cluster")
	f.bind(cluster.FieldIstioNamespace, &r.IstioNamespace, "istio-namespace", "the namespace of istiod and its ConfigMaps (live)")
	bindPromFlags(f, &r.Prometheus, "", "Prometheus holding Istio's istio_requests_total and cAdvisor's container series (live): PS402 then compares the clusters a proxy holds with the services its workload called")
	f.bind(check.FieldTelemetryWindow, &r.TelemetryWindow, "telemetry-window", "with --prometheus-url: the window of traffic that says which services a workload calls")
	c.RunE = func(c *cobra.Command, args []string) error {
		if err := kube.validate(); err != nil {
			return err
		}
		if !oneOf(output, "table", "json", "sarif", "fixes") {
			return flagError("output", "expected table, json, sarif or fixes, got %q", output)
		}
		r.Workloads, r.Namespace, r.Given, r.Names = args, kube.Namespace, f.given(), f.names(checkNames)
		job, err := r.Check()
		if err != nil {
			return err
		}
		src := check.Sources{Stdin: c.InOrStdin()}
		if job.Live() {
			clients, err := kube.Connect()
			if err != nil {
				return err
			}
			src.Kube, src.Dynamic, src.Namespace = clients.Typed, clients.Dynamic, clients.Namespace
		}
		ctx, cancel := context.WithTimeout(c.Context(), kube.Timeout)
		defer cancel()
		report, err := job.Report(ctx, src)
		if err != nil {
			return err
		}
		if err := writeCheckReport(c.OutOrStdout(), output, report); err != nil {
			return err
		}
		if n := job.Failing(report); n > 0 {
			return findingsError{n: n, threshold: r.FailOn}
		}
		return nil
	}
	return c
}

// checkNames name the manifests by both their flags (prose says -f, as
// kubectl's users do) and the arguments as workloads.
var checkNames = input.Names{check.FieldFiles: "-f/--filename", check.FieldWorkloads: "workload"}

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
