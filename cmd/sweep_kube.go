package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
	"github.com/proxysizer/proxysizer/sweep"
)

// dryRun reads the Deployment (and only reads) and prints what a
// kubernetes sweep would do: each setting's patch, the restoring patch, the
// load pods and the steps. It creates nothing, not even the results directory.
func (k *sweepKubeFlags) dryRun(ctx context.Context, out io.Writer, o sweep.Options) error {
	ctrl, err := cluster.New(k.cfg.Config)
	if err != nil {
		return fmt.Errorf("kubernetes backend: %w", err)
	}
	plan, err := ctrl.Plan(ctx, o.Settings)
	if err != nil {
		return err
	}
	if err := plan.Write(out); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "load: %d load agent pod(s) (%s) loading %s at %v inbound RPS per pod (%s arrivals), %d step(s) of %v after %v warm-up, per setting; results to %s\n",
		k.cfg.LoadGenerators, k.cfg.LoadImage, k.cfg.Target, o.Rates, o.Load.Arrival, len(o.Rates)*max(1, o.Repeats), o.Load.Duration, o.Load.Warmup, o.OutDir)
	return err
}

// sweepKubeFlags are the flags of --backend kubernetes, bound to the
// backend's request; check turns them into its configuration.
type sweepKubeFlags struct {
	kubeFlags
	req    kube.Request
	fields fieldFlags
	cfg    kube.BackendConfig
	// own are the names of the flags (and --dry-run).
	own []string
}

func addSweepKubeFlags(fl *pflag.FlagSet, k *sweepKubeFlags) {
	k.req = kube.DefaultRequest()
	k.req.LoadImage = kube.DefaultLoadImage(version) // this build's agent
	k.kubeFlags.register(fl, "kubernetes: ", "the Deployment's")
	f, r := newFieldFlags(fl), &k.req
	k.fields = f
	f.bind(cluster.FieldDeployment, &r.Deployment, "deployment", "kubernetes: the Deployment whose istio-proxy sidecar is sized (required)")
	f.bind(kube.FieldTarget, &r.Target, "target", "kubernetes: the URL the load generators load from inside the cluster, e.g. http://web.shop.svc:8080/ (required)")
	f.bind(sizing.FieldAppContainer, &r.AppContainer, "app-container", "kubernetes: the app's container (default: the first that is not istio-proxy)")
	f.bind(cluster.FieldJournal, &r.Journal, "journal", "kubernetes: the journal of the original annotations (default ~/.local/state/proxysizer/kube-NS-NAME.journal.json)")
	f.bind(kube.FieldRolloutTimeout, &r.RolloutTimeout, "rollout-timeout", "kubernetes: how long each rollout may take")
	f.bind(kube.FieldLoadGenerators, &r.LoadGenerators, "load-generators", "kubernetes: load agent pods sharing the load")
	f.bind(kube.FieldLoadImage, &r.LoadImage, "load-image", "kubernetes: the load generators' image: proxysizer's (the repository's Dockerfile, `make image`), which runs the load agent `proxysizer load --serve`")
	f.bind(kube.FieldLoadNodeSelector, &r.LoadNodeSelector, "load-node-selector", "kubernetes: key=value node labels for the load generators (e.g. away from the target's nodes)")
	f.bind(kube.FieldLoadPodTimeout, &r.LoadPodTimeout, "load-pod-timeout", "kubernetes: how long the load generators may take to be ready")
	f.bind(kube.FieldEnvoyStatsPort, &r.EnvoyStatsPort, "envoy-stats-port", "kubernetes: the sidecar's port serving /stats/prometheus (Istio: 15090; the admin port 15000 listens on localhost only)")
	f.bind(prom.FieldURL, &r.Prometheus.URL, "prometheus-url", "kubernetes: Prometheus holding the kubelet's cAdvisor series (default: metrics.k8s.io, coarser)")
	f.bind(prom.FieldTokenFile, &r.Prometheus.TokenFile, "prometheus-token-file", "kubernetes: file holding a bearer token for Prometheus (never printed nor saved)")
	f.bind(kube.FieldPrometheusScrapeInterval, &r.Prometheus.ScrapeInterval, "prometheus-scrape-interval", "kubernetes: the cAdvisor scrape interval (default: read from Prometheus' configuration, else 15s)")
}

func (k *sweepKubeFlags) ownFlags() []flagUse {
	var out []flagUse
	for _, name := range k.own {
		out = append(out, flagUse{name, "only used with --backend kubernetes"})
	}
	return out
}

// check checks the kubernetes backend's flags into its configuration.
func (k *sweepKubeFlags) check(o sweep.Options) error {
	k.req.Access = k.Access
	k.req.Names = k.fields.names(o.Names)
	for field, name := range k.Access.Names {
		k.req.Names[field] = name
	}
	k.req.Names[kube.FieldBackend] = "--backend kubernetes"
	var resumed *results.Cluster
	if o.Resumed != nil {
		resumed = o.Resumed.Environment.Cluster
	}
	var err error
	if k.cfg, err = k.req.Config(resumed, io.Discard); err != nil {
		return err
	}
	if o.FindMax && o.Load.Duration < 2*time.Second {
		return flagError("duration", "expected at least 2s per step on a cluster, got %v", o.Load.Duration)
	}
	return nil
}

func (k *sweepKubeFlags) open(ctx context.Context, log io.Writer, o sweep.Options) (driver.Backend, error) {
	k.cfg.Log = log
	b, err := kube.NewBackend(ctx, k.cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes backend: %w", err)
	}
	_, env := b.Describe()
	fmt.Fprintf(log, "proxysizer sweep: deployment %s/%s on Kubernetes %s, %d load generator(s), metrics from %s; results in %s\n",
		env.Cluster.Namespace, env.Cluster.Deployment, env.Cluster.ServerVersion, k.cfg.LoadGenerators, env.Cluster.MetricsSource, o.OutDir)
	return b, nil
}
