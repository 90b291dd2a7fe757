package cmd

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sweep"
)

// dryRun reads the Deployment (and only reads) and prints what a
// kubernetes sweep would do: each setting's patch, the restoring patch, the
// load pods and the steps. It creates nothing, not even the results directory.
func (k *sweepKubeFlags) dryRun(ctx context.Context, out io.Writer, o sweep.Options) error {
	ctrl, err := cluster.New(k.backendConfig(io.Discard).Config)
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
		k.loadGenerators, k.loadImage, k.target, o.Rates, o.Load.Arrival, len(o.Rates)*max(1, o.Repeats), o.Load.Duration, o.Load.Warmup, o.OutDir)
	return err
}

// sweepKubeFlags are the flags of --backend kubernetes.
type sweepKubeFlags struct {
	kubeFlags
	deployment, target, appContainer string
	journal                          string
	rolloutTimeout                   time.Duration
	loadGenerators                   int
	loadImage                        string
	loadNodeSelector                 []string
	loadPodTimeout                   time.Duration
	envoyStatsPort                   int
	promURL, promTokenFile           string
	promScrapeInterval               time.Duration
	// own are the names of the flags above (and --dry-run).
	own []string
}

func addSweepKubeFlags(fl *pflag.FlagSet, k *sweepKubeFlags) {
	k.kubeFlags.register(fl, "kubernetes: ", "the Deployment's")
	fl.StringVar(&k.deployment, "deployment", "", "kubernetes: the Deployment whose istio-proxy sidecar is sized (required)")
	fl.StringVar(&k.target, "target", "", "kubernetes: the URL the load generators load from inside the cluster, e.g. http://web.shop.svc:8080/ (required)")
	fl.StringVar(&k.appContainer, "app-container", "", "kubernetes: the app's container (default: the first that is not istio-proxy)")
	fl.StringVar(&k.journal, "journal", "", "kubernetes: the journal of the original annotations (default ~/.local/state/proxysizer/kube-NS-NAME.journal.json)")
	fl.DurationVar(&k.rolloutTimeout, "rollout-timeout", cluster.DefaultRolloutTimeout, "kubernetes: how long each rollout may take")
	fl.IntVar(&k.loadGenerators, "load-generators", 1, "kubernetes: load agent pods sharing the load")
	fl.StringVar(&k.loadImage, "load-image", kube.DefaultLoadImage(version), "kubernetes: the load generators' image: proxysizer's (the repository's Dockerfile, `make image`), which runs the load agent `proxysizer load --serve`")
	fl.StringSliceVar(&k.loadNodeSelector, "load-node-selector", nil, "kubernetes: key=value node labels for the load generators (e.g. away from the target's nodes)")
	fl.DurationVar(&k.loadPodTimeout, "load-pod-timeout", kube.DefaultLoadPodTimeout, "kubernetes: how long the load generators may take to be ready")
	fl.IntVar(&k.envoyStatsPort, "envoy-stats-port", kube.DefaultEnvoyStatsPort, "kubernetes: the sidecar's port serving /stats/prometheus (Istio: 15090; the admin port 15000 listens on localhost only)")
	fl.StringVar(&k.promURL, "prometheus-url", "", "kubernetes: Prometheus holding the kubelet's cAdvisor series (default: metrics.k8s.io, coarser)")
	fl.StringVar(&k.promTokenFile, "prometheus-token-file", "", "kubernetes: file holding a bearer token for Prometheus (never printed nor saved)")
	fl.DurationVar(&k.promScrapeInterval, "prometheus-scrape-interval", 0, "kubernetes: the cAdvisor scrape interval (default: read from Prometheus' configuration, else 15s)")
}

func (k *sweepKubeFlags) ownFlags() []flagUse {
	var out []flagUse
	for _, name := range k.own {
		out = append(out, flagUse{name, "only used with --backend kubernetes"})
	}
	return out
}

// check checks the kubernetes backend's flags.
func (k *sweepKubeFlags) check(o sweep.Options) error {
	// A resume continues on the recorded Deployment.
	if c := resumedCluster(o); c != nil {
		switch {
		case k.deployment == "":
			k.deployment = c.Deployment
		case k.deployment != c.Deployment:
			return flagError("deployment", "the sweep being resumed measured %s/%s: leave --deployment out, or choose another --out", c.Namespace, c.Deployment)
		}
		switch {
		case k.Namespace == "":
			k.Namespace = c.Namespace
		case k.Namespace != c.Namespace:
			return flagError("namespace", "the sweep being resumed measured %s/%s: leave -n out, or choose another --out", c.Namespace, c.Deployment)
		}
	}
	switch {
	case k.deployment == "":
		return flagError("deployment", "required with --backend kubernetes: the Deployment to size")
	case len(validation.IsDNS1123Subdomain(k.deployment)) > 0:
		return flagError("deployment", "expected a Deployment name, got %q", k.deployment)
	}
	if err := k.kubeFlags.validate(); err != nil {
		return err
	}
	switch {
	case k.rolloutTimeout <= 0:
		return flagError("rollout-timeout", "expected a duration > 0, got %v", k.rolloutTimeout)
	case k.loadGenerators < 1 || k.loadGenerators > 100:
		return flagError("load-generators", "expected 1..100 pods, got %d", k.loadGenerators)
	case k.loadImage == "":
		return flagError("load-image", "expected an image")
	case k.loadPodTimeout <= 0:
		return flagError("load-pod-timeout", "expected a duration > 0, got %v", k.loadPodTimeout)
	case k.envoyStatsPort < 1 || k.envoyStatsPort > 65535:
		return flagError("envoy-stats-port", "expected a port, got %d", k.envoyStatsPort)
	case k.promScrapeInterval < 0:
		return flagError("prometheus-scrape-interval", "expected a duration > 0, got %v", k.promScrapeInterval)
	case k.promTokenFile != "" && k.promURL == "":
		return flagError("prometheus-token-file", "needs --prometheus-url")
	case k.promScrapeInterval > 0 && k.promURL == "":
		return flagError("prometheus-scrape-interval", "needs --prometheus-url")
	}
	if u, err := url.Parse(k.target); k.target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return flagError("target", "expected the http(s) URL the load generators send to from inside the cluster, e.g. http://web.shop.svc:8080/, got %q", k.target)
	}
	if k.promURL != "" {
		if u, err := url.Parse(k.promURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return flagError("prometheus-url", "expected an http(s) URL, got %q", k.promURL)
		}
	}
	if k.promTokenFile != "" {
		if err := safefile.CheckReadable(k.promTokenFile, safefile.MaxToken); err != nil {
			return flagError("prometheus-token-file", "expected a readable file: %v", err)
		}
	}
	if _, err := k.nodeSelector(); err != nil {
		return err
	}
	if o.FindMax && o.Load.Duration < 2*time.Second {
		return flagError("duration", "expected at least 2s per step on a cluster, got %v", o.Load.Duration)
	}
	return nil
}

func resumedCluster(o sweep.Options) *results.Cluster {
	if o.Resumed == nil {
		return nil
	}
	return o.Resumed.Environment.Cluster
}

func (k *sweepKubeFlags) open(ctx context.Context, log io.Writer, o sweep.Options) (driver.Backend, error) {
	b, err := kube.NewBackend(ctx, k.backendConfig(log))
	if err != nil {
		return nil, fmt.Errorf("kubernetes backend: %w", err)
	}
	_, env := b.Describe()
	fmt.Fprintf(log, "proxysizer sweep: deployment %s/%s on Kubernetes %s, %d load generator(s), metrics from %s; results in %s\n",
		env.Cluster.Namespace, env.Cluster.Deployment, env.Cluster.ServerVersion, k.loadGenerators, env.Cluster.MetricsSource, o.OutDir)
	return b, nil
}

func (k sweepKubeFlags) nodeSelector() (map[string]string, error) {
	if len(k.loadNodeSelector) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range k.loadNodeSelector {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || len(validation.IsQualifiedName(key)) > 0 || len(validation.IsValidLabelValue(value)) > 0 {
			return nil, flagError("load-node-selector", "expected key=value node labels, got %q", kv)
		}
		out[key] = value
	}
	return out, nil
}

func (k sweepKubeFlags) backendConfig(log io.Writer) kube.BackendConfig {
	sel, _ := k.nodeSelector()
	return kube.BackendConfig{
		Config: cluster.Config{Access: k.Access, Deployment: k.deployment, JournalPath: k.journal,
			RolloutTimeout: k.rolloutTimeout, Log: log},
		Target: k.target, AppContainer: k.appContainer, LoadGenerators: k.loadGenerators, LoadImage: k.loadImage,
		LoadNodeSelector: sel, LoadPodTimeout: k.loadPodTimeout, EnvoyStatsPort: k.envoyStatsPort,
		Prometheus: kube.PrometheusConfig{URL: k.promURL, TokenFile: k.promTokenFile, ScrapeInterval: k.promScrapeInterval},
	}
}
