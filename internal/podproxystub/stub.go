// Package podproxystub stands in, at the HTTP transport only, for what
// kwok's pods cannot serve: requests to the API server's pod proxy
// (/api/v1/namespaces/NS/pods/NAME:PORT/proxy/...) go to in-process
// servers (for each load generator pod its own proxysizer load agent,
// loadgen.Agent, the very handler `proxysizer load --serve` runs; a fake
// Envoy stats page for the sidecars), and metrics.k8s.io can be served from
// a function. Everything else goes to the real API server. It can also drop
// the API server's pod watches, to test that fault.
//
// Install it with kube.TransportWrapper = stub.Wrap.
package podproxystub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/proxysizer/proxysizer/loadgen"
)

var podProxyPath = regexp.MustCompile(`^/api/v1/namespaces/([^/]+)/pods/([^/:]+):(\d+)/proxy/(.*)$`)
var metricsPath = regexp.MustCompile(`^/apis/metrics\.k8s\.io/v1beta1/namespaces/([^/]+)/pods$`)

// Stub routes pod-proxy requests to in-process servers.
type Stub struct {
	// EnvoyStats serves /stats/prometheus for a target pod (ok false: 404).
	EnvoyStats func(ns, pod string) (text string, ok bool)
	// PodExists, when set, makes a proxy request to a pod that does not
	// exist fail as the API server's would (404).
	PodExists func(ns, pod string) bool
	// Metrics, when set, serves metrics.k8s.io's PodMetricsList (JSON).
	Metrics func(ns string) []byte
	// DropPodWatches closes every pod watch as soon as the API server
	// answers it.
	DropPodWatches atomic.Bool

	// AgentRuns counts the agent runs forwarded (warm-ups included).
	AgentRuns atomic.Int64
	// OnAgentRun, when set, is called as each run is forwarded to a pod's
	// agent (to inject a fault while it runs).
	OnAgentRun func(ns, pod string)
	// AgentAt, when set, names the base URL of an agent that serves a pod
	// instead of an in-process one (an agent process); "" keeps the
	// in-process one.
	AgentAt func(ns, pod string) string

	mu     sync.Mutex
	agents map[string]*agentServer // by ns/pod
}

// agentServer is one load pod's agent: loadgen.Agent on a loopback port.
type agentServer struct {
	url     string
	srv     *http.Server
	crashed bool
}

// AgentPort is the load pods' agent port the stub serves.
const AgentPort = loadgen.DefaultAgentPort

// AgentURL is the base URL of a pod's in-process agent, started on first
// use; "" once CrashAgent ended it.
func (s *Stub) AgentURL(ns, pod string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.agents == nil {
		s.agents = map[string]*agentServer{}
	}
	a := s.agents[ns+"/"+pod]
	if a == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		a = &agentServer{url: "http://" + l.Addr().String(), srv: &http.Server{Handler: &loadgen.Agent{}, ReadHeaderTimeout: 10 * time.Second}}
		go a.srv.Serve(l)
		s.agents[ns+"/"+pod] = a
	}
	if a.crashed {
		return ""
	}
	return a.url
}

// CrashAgent ends a pod's agent as a crashed container would: its listener
// and every connection closed, the run in progress cut off.
func (s *Stub) CrashAgent(ns, pod string) {
	s.AgentURL(ns, pod)
	s.mu.Lock()
	a := s.agents[ns+"/"+pod]
	a.crashed = true
	s.mu.Unlock()
	a.srv.Close()
}

// Close ends every agent.
func (s *Stub) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.agents {
		a.srv.Close()
	}
}

// Wrap is a kube.TransportWrapper.
func (s *Stub) Wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper{s: s, next: next}
}

type roundTripper struct {
	s    *Stub
	next http.RoundTripper
}

var loopback = &http.Transport{Proxy: nil, DisableCompression: true, ResponseHeaderTimeout: 5 * time.Minute}

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if m := podProxyPath.FindStringSubmatch(r.URL.Path); m != nil {
		return rt.s.podProxy(r, m[1], m[2], m[3], m[4])
	}
	if m := metricsPath.FindStringSubmatch(r.URL.Path); m != nil && rt.s.Metrics != nil {
		return respond(r, http.StatusOK, "application/json", rt.s.Metrics(m[1])), nil
	}
	if rt.s.DropPodWatches.Load() && r.URL.Query().Get("watch") == "true" && strings.HasSuffix(r.URL.Path, "/pods") {
		resp, err := rt.next.RoundTrip(r)
		if err != nil {
			return resp, err
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(nil)) // the connection ends: the watch is closed
		return resp, nil
	}
	return rt.next.RoundTrip(r)
}

func (s *Stub) podProxy(r *http.Request, ns, pod, port, path string) (*http.Response, error) {
	if s.PodExists != nil && !s.PodExists(ns, pod) {
		return respond(r, http.StatusNotFound, "application/json", status(http.StatusNotFound, "NotFound", fmt.Sprintf("pods %q not found", pod))), nil
	}
	switch {
	case port == fmt.Sprint(AgentPort):
		return s.forwardToAgent(r, ns, pod, path)
	case path == "stats/prometheus" && s.EnvoyStats != nil:
		text, ok := s.EnvoyStats(ns, pod)
		if !ok {
			return respond(r, http.StatusNotFound, "text/plain", []byte("no stats")), nil
		}
		return respond(r, http.StatusOK, "text/plain; version=0.0.4", []byte(text)), nil
	}
	return respond(r, http.StatusBadGateway, "text/plain", []byte("podproxystub: nothing serves "+port+"/"+path)), nil
}

// forwardToAgent passes a request on to the pod's agent as the API
// server's proxy does, and answers a failure to reach it as the API server
// would: 503 with a Status.
func (s *Stub) forwardToAgent(r *http.Request, ns, pod, path string) (*http.Response, error) {
	var base string
	if s.AgentAt != nil {
		base = s.AgentAt(ns, pod)
	}
	if base == "" {
		base = s.AgentURL(ns, pod)
	}
	if path == "v1/run" {
		s.AgentRuns.Add(1)
		if s.OnAgentRun != nil {
			s.OnAgentRun(ns, pod)
		}
	}
	u := base + "/" + path
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	var resp *http.Response
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u, r.Body)
	if err == nil && base == "" {
		err = fmt.Errorf("dial tcp %s:%d: connect: connection refused", pod, AgentPort)
	} else if err == nil {
		resp, err = loopback.RoundTrip(out)
	}
	if err != nil {
		if r.Context().Err() != nil {
			return nil, err
		}
		return respond(r, http.StatusServiceUnavailable, "application/json",
			status(http.StatusServiceUnavailable, "ServiceUnavailable", "error trying to reach service: "+err.Error())), nil
	}
	return resp, nil
}

// status is the API server's error body: a metav1.Status.
func status(code int, reason, message string) []byte {
	data, _ := json.Marshal(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Message: message, Reason: metav1.StatusReason(reason), Code: int32(code)})
	return data
}

func respond(r *http.Request, code int, ctype string, body []byte) *http.Response {
	return &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{ctype}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}
}

// Target is an in-process HTTP server standing in for the Service the load
// is sent to; it counts the requests it answers.
type Target struct {
	URL      string
	Requests atomic.Int64
	// Delay is how long each reply waits (nanoseconds): a slow Service.
	Delay atomic.Int64
}

// StartTarget serves 200 OK on a loopback port until the process ends.
func StartTarget() *Target {
	t := &Target{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	t.URL = "http://" + l.Addr().String() + "/echo"
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Requests.Add(1)
		time.Sleep(time.Duration(t.Delay.Load()))
		_, _ = w.Write([]byte("ok"))
	}))
	return t
}

// EnvoyText is an Istio sidecar's /stats/prometheus with the given
// counters (Istio's HCM stat prefixes, server gauges).
func EnvoyText(inbound, outbound int64, concurrency int, memAllocated int64) string {
	return fmt.Sprintf(`# TYPE envoy_http_downstream_rq_total counter
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_0.0.0.0_8080"} %d
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="outbound_0.0.0.0_9090"} %d
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="admin"} 7
# TYPE envoy_server_concurrency gauge
envoy_server_concurrency{} %d
# TYPE envoy_server_memory_allocated gauge
envoy_server_memory_allocated{} %d
`, inbound, outbound, concurrency, memAllocated)
}
