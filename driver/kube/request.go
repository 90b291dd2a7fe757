package kube

import (
	"io"
	"net/url"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sweep"
)

// The inputs of a Request, as its problems name them (the Deployment, the
// namespace and the journal are cluster's fields; the Prometheus URL and
// token file prom's).
const (
	FieldTarget                   input.Field = "target URL"
	FieldRolloutTimeout           input.Field = "rollout timeout"
	FieldLoadGenerators           input.Field = "load generators"
	FieldLoadImage                input.Field = "load generators' image"
	FieldLoadPodTimeout           input.Field = "load generators' timeout"
	FieldLoadNodeSelector         input.Field = "load generators' node selector"
	FieldEnvoyStatsPort           input.Field = "Envoy stats port"
	FieldPrometheusScrapeInterval input.Field = "Prometheus scrape interval"
	// FieldBackend is not an input but the choice of this backend, which
	// requires the Deployment.
	FieldBackend input.Field = "the kubernetes backend"
)

// Request is the kubernetes backend as a person asks for it: flat values a
// caller binds its inputs to; Config checks them.
type Request struct {
	cluster.Access
	Deployment, Target, AppContainer, Journal string
	RolloutTimeout                            time.Duration
	LoadGenerators                            int
	// LoadImage is the load agents' image; a caller sets its own build's
	// (DefaultLoadImage(version)), whose agent speaks its API.
	LoadImage string
	// LoadNodeSelector are key=value node labels.
	LoadNodeSelector []string
	LoadPodTimeout   time.Duration
	EnvoyStatsPort   int
	Prometheus       PrometheusConfig
}

// DefaultRequest is a request's defaults, all but the load image, which
// depends on the caller's version (DefaultLoadImage).
func DefaultRequest() Request {
	return Request{RolloutTimeout: cluster.DefaultRolloutTimeout, LoadGenerators: 1,
		LoadPodTimeout: DefaultLoadPodTimeout, EnvoyStatsPort: DefaultEnvoyStatsPort}
}

// Config checks r into the backend's configuration, logging on log; a
// sweep that resumes one of resumed's Deployment continues on it. A
// problem is an *input.Error naming the field (in r.Names).
func (r Request) Config(resumed *results.Cluster, log io.Writer) (BackendConfig, error) {
	n := r.Names
	if err := r.resume(resumed); err != nil {
		return BackendConfig{}, err
	}
	switch {
	case r.Deployment == "":
		return BackendConfig{}, n.Errorf(cluster.FieldDeployment, "required with %s: the Deployment to size", FieldBackend)
	case len(validation.IsDNS1123Subdomain(r.Deployment)) > 0:
		return BackendConfig{}, n.Errorf(cluster.FieldDeployment, "expected a Deployment name, got %q", r.Deployment)
	}
	if err := r.Access.Check(); err != nil {
		return BackendConfig{}, err
	}
	if err := r.checkLoad(); err != nil {
		return BackendConfig{}, err
	}
	if err := r.checkPrometheus(); err != nil {
		return BackendConfig{}, err
	}
	sel, err := r.nodeSelector()
	if err != nil {
		return BackendConfig{}, err
	}
	return BackendConfig{
		Config: cluster.Config{Access: r.Access, Deployment: r.Deployment, JournalPath: r.Journal, RolloutTimeout: r.RolloutTimeout, Log: log},
		Target: r.Target, AppContainer: r.AppContainer, LoadGenerators: r.LoadGenerators, LoadImage: r.LoadImage,
		LoadNodeSelector: sel, LoadPodTimeout: r.LoadPodTimeout, EnvoyStatsPort: r.EnvoyStatsPort, Prometheus: r.Prometheus,
	}, nil
}

// resume takes the resumed sweep's Deployment where r names none, and
// refuses another one.
func (r *Request) resume(c *results.Cluster) error {
	if c == nil {
		return nil
	}
	n := r.Names
	switch {
	case r.Deployment == "":
		r.Deployment = c.Deployment
	case r.Deployment != c.Deployment:
		return n.Errorf(cluster.FieldDeployment, "the sweep being resumed measured %s/%s: leave %s out, or choose another %s", c.Namespace, c.Deployment, cluster.FieldDeployment, sweep.FieldOutDir)
	}
	switch {
	case r.Namespace == "":
		r.Namespace = c.Namespace
	case r.Namespace != c.Namespace:
		return n.Errorf(cluster.FieldNamespace, "the sweep being resumed measured %s/%s: leave %s out, or choose another %s", c.Namespace, c.Deployment, cluster.FieldNamespace, sweep.FieldOutDir)
	}
	return nil
}

func (r Request) checkLoad() error {
	n := r.Names
	switch {
	case r.RolloutTimeout <= 0:
		return n.Errorf(FieldRolloutTimeout, "expected a duration > 0, got %v", r.RolloutTimeout)
	case r.LoadGenerators < 1 || r.LoadGenerators > 100:
		return n.Errorf(FieldLoadGenerators, "expected 1..100 pods, got %d", r.LoadGenerators)
	case r.LoadImage == "":
		return n.Errorf(FieldLoadImage, "expected an image")
	case r.LoadPodTimeout <= 0:
		return n.Errorf(FieldLoadPodTimeout, "expected a duration > 0, got %v", r.LoadPodTimeout)
	case r.EnvoyStatsPort < 1 || r.EnvoyStatsPort > 65535:
		return n.Errorf(FieldEnvoyStatsPort, "expected a port, got %d", r.EnvoyStatsPort)
	}
	return nil
}

func (r Request) checkPrometheus() error {
	n, p := r.Names, r.Prometheus
	switch {
	case p.ScrapeInterval < 0:
		return n.Errorf(FieldPrometheusScrapeInterval, "expected a duration > 0, got %v", p.ScrapeInterval)
	case p.TokenFile != "" && p.URL == "":
		return n.Errorf(prom.FieldTokenFile, "needs %s", prom.FieldURL)
	case p.ScrapeInterval > 0 && p.URL == "":
		return n.Errorf(FieldPrometheusScrapeInterval, "needs %s", prom.FieldURL)
	}
	if u, err := url.Parse(r.Target); r.Target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return n.Errorf(FieldTarget, "expected the http(s) URL the load generators send to from inside the cluster, e.g. http://web.shop.svc:8080/, got %q", r.Target)
	}
	if p.URL != "" {
		if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return n.Errorf(prom.FieldURL, "expected an http(s) URL, got %q", p.URL)
		}
	}
	if p.TokenFile != "" {
		if err := safefile.CheckReadable(p.TokenFile, safefile.MaxToken); err != nil {
			return n.Errorf(prom.FieldTokenFile, "expected a readable file: %v", err)
		}
	}
	return nil
}

func (r Request) nodeSelector() (map[string]string, error) {
	if len(r.LoadNodeSelector) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range r.LoadNodeSelector {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || len(validation.IsQualifiedName(key)) > 0 || len(validation.IsValidLabelValue(value)) > 0 {
			return nil, r.Names.Errorf(FieldLoadNodeSelector, "expected key=value node labels, got %q", kv)
		}
		out[key] = value
	}
	return out, nil
}
