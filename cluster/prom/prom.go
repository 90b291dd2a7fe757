// Package prom queries a Prometheus for the series of many workloads at
// once: every query aggregates inside Prometheus, so a caller asks one query
// per figure however many workloads it covers. The container queries
// aggregate by namespace, pod and container (Key); the fleet queries of
// Istio's and cAdvisor's series aggregate by workload (WorkloadKey), with the
// workload of a cAdvisor series derived from its pod's name inside the
// query (PodNamePattern, WorkloadLabel; DeploymentPods selects one
// Deployment's pods by the same rule). Vector returns any other grouping as
// label sets. It reads Prometheus' configuration for the scrape interval, counts the
// queries it sends, and sends a bearer token read from a file at each
// request (so that a rotated token is picked up) without ever printing it.
package prom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

// DefaultQueryTimeout bounds one query when Config gives none.
const DefaultQueryTimeout = 30 * time.Second

// Config says how to reach a Prometheus.
type Config struct {
	// URL is Prometheus' base URL (http or https).
	URL string
	// TokenFile holds a bearer token, read at each request; the token goes
	// into the Authorization header only, errors name the file.
	TokenFile string
	// Transport carries the requests (nil: one with dial and TLS
	// handshake timeouts, honouring the proxy environment).
	Transport http.RoundTripper
	// QueryTimeout bounds each query (0: DefaultQueryTimeout).
	QueryTimeout time.Duration
}

// Client queries one Prometheus.
type Client struct {
	api     promv1.API
	url     string
	timeout time.Duration
	sent    atomic.Int64
}

// QueriesSent is how many PromQL queries (instant and range) the client
// has sent.
func (c *Client) QueriesSent() int64 { return c.sent.Load() }

// New builds a client; it sends nothing (a bad URL is its only error).
func New(cfg Config) (*Client, error) {
	rt := cfg.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
		}
	}
	if cfg.TokenFile != "" {
		rt = bearerFile{path: cfg.TokenFile, next: rt}
	}
	client, err := promapi.NewClient(promapi.Config{Address: cfg.URL, RoundTripper: rt})
	if err != nil {
		return nil, err
	}
	timeout := cfg.QueryTimeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	return &Client{api: promv1.NewAPI(client), url: cfg.URL, timeout: timeout}, nil
}

// URL is the Prometheus the client queries.
func (c *Client) URL() string { return c.url }

// bearerFile sets Authorization: Bearer from a token file, read at each
// request so that a rotated token (a projected service account token) is
// picked up.
type bearerFile struct {
	path string
	next http.RoundTripper
}

func (b bearerFile) RoundTrip(r *http.Request) (*http.Response, error) {
	data, err := safefile.ReadFile(b.path, safefile.MaxToken)
	if err != nil {
		return nil, fmt.Errorf("reading the Prometheus bearer token file: %w", err)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(data)))
	return b.next.RoundTrip(r)
}

// Unreachable says whether err is a failure to reach Prometheus at all
// (connection refused, a timeout), rather than an answer it gave.
func Unreachable(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout())
}

func (c *Client) unreachable(err error) error {
	return fmt.Errorf("prometheus at %s is unreachable: %w", c.url, err)
}

// failed words a request's error: unreachable, or the query's own.
func (c *Client) failed(what string, err error) error {
	if Unreachable(err) {
		return c.unreachable(err)
	}
	return fmt.Errorf("prometheus %s: %w", what, err)
}

// Ping checks that Prometheus answers a query.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if _, _, _, err := c.api.Query(ctx, "1", time.Now()); err != nil {
		if Unreachable(err) {
			return c.unreachable(err)
		}
		return fmt.Errorf("prometheus at %s does not answer queries: %w", c.url, err)
	}
	return nil
}

// ScrapeInterval is the scrape interval Prometheus' configuration gives
// the kubelet's cAdvisor series.
type ScrapeInterval struct {
	Interval time.Duration
	// From says where it was read, or why it was not (Found false).
	From  string
	Found bool
}

// ScrapeInterval reads the scrape interval of the cAdvisor series from
// Prometheus' configuration: the job whose name mentions cadvisor, else the
// global interval. The error is a failure to read the configuration (some
// managed services do not serve it).
func (c *Client) ScrapeInterval(ctx context.Context) (ScrapeInterval, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conf, err := c.api.Config(ctx)
	if err != nil {
		if Unreachable(err) {
			return ScrapeInterval{}, c.unreachable(err)
		}
		return ScrapeInterval{}, fmt.Errorf("Prometheus' configuration unreadable: %w", err)
	}
	return scrapeInterval(conf.YAML), nil
}

// scrapeInterval reads the interval from a configuration document.
func scrapeInterval(conf string) ScrapeInterval {
	var c struct {
		Global struct {
			ScrapeInterval string `json:"scrape_interval"`
		} `json:"global"`
		Jobs []struct {
			Name           string `json:"job_name"`
			ScrapeInterval string `json:"scrape_interval"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(conf), &c); err != nil {
		return ScrapeInterval{From: "Prometheus' configuration unparsable"}
	}
	for _, j := range c.Jobs {
		if strings.Contains(strings.ToLower(j.Name), "cadvisor") && j.ScrapeInterval != "" {
			if d, err := model.ParseDuration(j.ScrapeInterval); err == nil {
				return ScrapeInterval{Interval: time.Duration(d), From: "Prometheus' configuration (job " + j.Name + ")", Found: true}
			}
		}
	}
	if d, err := model.ParseDuration(c.Global.ScrapeInterval); err == nil && d > 0 {
		return ScrapeInterval{Interval: time.Duration(d), From: "Prometheus' configuration (global)", Found: true}
	}
	return ScrapeInterval{From: "no scrape_interval in Prometheus' configuration"}
}

// Key is one container's series: the labels every query aggregates by.
type Key struct {
	Namespace, Pod, Container string
}

// By is the aggregation clause of every query, in Key's labels.
const By = "by (namespace, pod, container)"

// Selector picks the containers of many workloads: each list is a set of
// exact values (empty: any).
type Selector struct {
	Namespaces []string
	Pods       []string
	Containers []string
	// PodPattern, when set, is a regular expression (RE2, which Prometheus
	// anchors at both ends) the pod's name matches, in place of Pods: the
	// pods of a workload over a window, most of them gone.
	PodPattern string
}

// String is the selector's label matchers, e.g.
// {namespace="shop",pod=~"web-1|web-2",container=~"istio-proxy|app"}.
func (s Selector) String() string {
	var m []string
	for _, l := range []struct {
		name   string
		values []string
	}{{"namespace", s.Namespaces}, {"pod", s.Pods}, {"container", s.Containers}} {
		if l.name == "pod" && s.PodPattern != "" {
			m = append(m, fmt.Sprintf("pod=~%q", s.PodPattern))
			continue
		}
		switch len(l.values) {
		case 0:
		case 1:
			if l.name == "namespace" {
				m = append(m, fmt.Sprintf("%s=%q", l.name, l.values[0]))
				continue
			}
			fallthrough
		default:
			quoted := make([]string, len(l.values))
			for i, v := range l.values {
				quoted[i] = regexp.QuoteMeta(v)
			}
			m = append(m, fmt.Sprintf("%s=~%q", l.name, strings.Join(quoted, "|")))
		}
	}
	return "{" + strings.Join(m, ",") + "}"
}

// Instant evaluates expr, which must aggregate By, at at.
func (c *Client) Instant(ctx context.Context, expr string, at time.Time) (map[Key]float64, error) {
	vec, err := evaluate[model.Vector](ctx, c, "query", "vector", expr, func(ctx context.Context) (model.Value, error) {
		v, _, _, err := c.api.Query(ctx, expr, at)
		return v, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[Key]float64, len(vec))
	for _, s := range vec {
		out[keyOf(s.Metric)] = float64(s.Value)
	}
	return out, nil
}

// Sample is one series of an instant query's result: its labels and value.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Vector evaluates expr at at and returns every series with its labels,
// for groupings other than Key's.
func (c *Client) Vector(ctx context.Context, expr string, at time.Time) ([]Sample, error) {
	vec, err := evaluate[model.Vector](ctx, c, "query", "vector", expr, func(ctx context.Context) (model.Value, error) {
		v, _, _, err := c.api.Query(ctx, expr, at)
		return v, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(vec))
	for _, s := range vec {
		labels := make(map[string]string, len(s.Metric))
		for k, v := range s.Metric {
			labels[string(k)] = string(v)
		}
		out = append(out, Sample{Labels: labels, Value: float64(s.Value)})
	}
	return out, nil
}

// Point is one sample of a range query.
type Point struct {
	Time  time.Time
	Value float64
}

// Range evaluates expr, which must aggregate By, at every step of r.
func (c *Client) Range(ctx context.Context, expr string, r promv1.Range) (map[Key][]Point, error) {
	mat, err := evaluate[model.Matrix](ctx, c, "range query", "matrix", expr, func(ctx context.Context) (model.Value, error) {
		v, _, _, err := c.api.QueryRange(ctx, expr, r)
		return v, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[Key][]Point, len(mat))
	for _, s := range mat {
		points := make([]Point, len(s.Values))
		for i, p := range s.Values {
			points[i] = Point{Time: p.Timestamp.Time(), Value: float64(p.Value)}
		}
		out[keyOf(s.Metric)] = points
	}
	return out, nil
}

// evaluate runs one query under the client's timeout and checks that its
// result is a T (a vector for an instant query, a matrix for a range).
func evaluate[T model.Value](ctx context.Context, c *Client, kind, want, expr string, run func(context.Context) (model.Value, error)) (T, error) {
	var zero T
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	c.sent.Add(1)
	v, err := run(ctx)
	if err != nil {
		return zero, c.failed(kind+" "+expr, err)
	}
	out, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("prometheus %s %s: expected a %s, got %s", kind, expr, want, v.Type())
	}
	return out, nil
}

func keyOf(m model.Metric) Key {
	return Key{Namespace: string(m["namespace"]), Pod: string(m["pod"]), Container: string(m["container"])}
}
