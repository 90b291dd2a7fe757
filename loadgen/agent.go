package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"fortio.org/fortio/fgrpc"
	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/stats"
)

// The load agent.
//
// An agent is this engine behind a small HTTP API, so that load generators
// running elsewhere (pods inside a mesh) measure exactly as a local run
// does, intended-start latency and the schedule gates included, and their
// results merge exactly (MergeResults). `proxysizer load --serve ADDR` runs
// one; AgentClient drives it over any http.RoundTripper, such as the
// Kubernetes API server's pod proxy.
//
//	GET /healthz        200 "ok": for readiness probes
//	GET /v1/run?QUERY   one synchronous Run; 200 and the result as JSON
//	GET /v1/status      200 {"running": bool}
//	GET /v1/stop        cancels the run in progress; 200 {"stopped": bool}
//
// The run's options travel as query parameters (see agentQuery), and every
// call is a GET, so that a caller allowed only "get" on pods/proxy can
// drive it, as it could fortio's REST API. An agent makes one run at a
// time (a second gets 409): a generator's CPU figure must be its own run's.
// It sends load wherever it is asked to, like fortio's server: run it only
// where whoever can reach its port may send load.

// DefaultAgentPort is where `proxysizer load --serve` listens by default.
const DefaultAgentPort = 8077

// agentReply is /v1/run's answer: the Result, as JSON.
type agentReply struct {
	Summary  Summary                  `json:"summary"`
	HTTP     *fhttp.HTTPRunnerResults `json:"http,omitempty"`
	GRPC     *fgrpc.GRPCRunnerResults `json:"grpc,omitempty"`
	Intended *stats.HistogramData     `json:"intended,omitempty"`
	Schedule *ScheduleCounts          `json:"schedule,omitempty"`
}

// agentError is the answer to a run that could not be made.
type agentError struct {
	Error string `json:"error"`
	Field Field  `json:"field,omitempty"` // set for a *FieldError
	// Unreachable is set when the target refused or ignored a connection.
	Unreachable bool `json:"unreachable,omitempty"`
}

// Agent serves the load agent's API. The zero value is ready to use.
type Agent struct {
	// Log, when set, gets one line per run (for the pod's log).
	Log io.Writer

	mu     sync.Mutex
	cancel context.CancelFunc // of the run in progress; nil when idle
}

// ServeHTTP implements http.Handler.
func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeAgentJSON(w, http.StatusMethodNotAllowed, agentError{Error: "only GET is served"})
		return
	}
	switch r.URL.Path {
	case agentHealth:
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	case agentRunPath:
		a.run(w, r)
	case agentStatusPath:
		writeAgentJSON(w, http.StatusOK, map[string]bool{"running": a.running()})
	case agentStopPath:
		writeAgentJSON(w, http.StatusOK, map[string]bool{"stopped": a.stop()})
	default:
		writeAgentJSON(w, http.StatusNotFound, agentError{Error: "no such endpoint: " + r.URL.Path})
	}
}

func (a *Agent) run(w http.ResponseWriter, r *http.Request) {
	o, err := optionsFromQuery(r.URL.Query())
	if err != nil {
		writeRunError(w, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if !a.begin(cancel) {
		writeAgentJSON(w, http.StatusConflict, agentError{Error: "a run is already in progress on this agent"})
		return
	}
	defer a.end()
	res, err := Run(ctx, o)
	if err != nil && ctx.Err() != nil {
		// Stopped (or the caller went away) before or during the run: a
		// dial the stop cancelled is a stop, not an unreachable target.
		err = fmt.Errorf("%w: %v", context.Canceled, err)
	}
	if a.Log != nil {
		if err != nil {
			fmt.Fprintf(a.Log, "run for %s failed: %v\n", o.URL, err)
		} else {
			fmt.Fprintf(a.Log, "run for %s: %s, valid %v\n", o.URL, res.Summary.Line(), res.Summary.Valid)
		}
	}
	if err != nil {
		writeRunError(w, err)
		return
	}
	writeAgentJSON(w, http.StatusOK, agentReply{Summary: res.Summary, HTTP: res.HTTP, GRPC: res.GRPC,
		Intended: res.Intended, Schedule: res.Schedule})
}

func (a *Agent) begin(cancel context.CancelFunc) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		return false
	}
	a.cancel = cancel
	return true
}

func (a *Agent) end() {
	a.mu.Lock()
	a.cancel = nil
	a.mu.Unlock()
}

func (a *Agent) running() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cancel != nil
}

func (a *Agent) stop() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel == nil {
		return false
	}
	a.cancel()
	return true
}

func writeRunError(w http.ResponseWriter, err error) {
	var fe *FieldError
	var qe queryError
	switch {
	case errors.As(err, &qe):
		writeAgentJSON(w, http.StatusBadRequest, agentError{Error: qe.Error()})
	case errors.As(err, &fe):
		writeAgentJSON(w, http.StatusBadRequest, agentError{Error: fe.Msg, Field: fe.Field})
	case errors.Is(err, context.Canceled):
		writeAgentJSON(w, http.StatusServiceUnavailable, agentError{Error: "run stopped"})
	case IsUnreachable(err):
		writeAgentJSON(w, http.StatusBadGateway, agentError{Error: err.Error(), Unreachable: true})
	default:
		writeAgentJSON(w, http.StatusInternalServerError, agentError{Error: err.Error()})
	}
}

func writeAgentJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeAgent serves the agent on addr until ctx is done, then stops the
// run in progress and shuts down. It writes where it listens, then one line
// per run, to log.
func ServeAgent(ctx context.Context, addr string, log io.Writer) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	agent := &Agent{Log: log}
	srv := &http.Server{Handler: agent, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(log, "proxysizer load agent listening on %s\n", l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	agent.stop()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// The query parameters of /v1/run, one per Options field.
const (
	qURL, qProtocol, qQPS, qArrival, qSeed   = "url", "protocol", "qps", "arrival", "seed"
	qConnections, qDuration, qWarmup         = "connections", "duration", "warmup"
	qExpectedLatency                         = "expected_latency"
	qPayloadSize, qHeader, qLabels           = "payload_size", "header", "labels"
	qRequestTimeout, qConnectTimeout         = "request_timeout", "connect_timeout"
	qMinAchieved, qMaxErrors, qMaxBehind     = "min_achieved_ratio", "max_error_ratio", "max_behind_ratio"
	qCPUWarn, qNoRealtime                    = "cpu_warn_fraction", "no_realtime"
	agentRunPath, agentStopPath, agentHealth = "/v1/run", "/v1/stop", "/healthz"
	agentStatusPath                          = "/v1/status"
)

// agentQuery encodes o for /v1/run (Progress stays local).
func agentQuery(o Options) url.Values {
	q := url.Values{}
	q.Set(qURL, o.URL)
	set := func(key, value string, zero bool) {
		if !zero {
			q.Set(key, value)
		}
	}
	set(qProtocol, string(o.Protocol), o.Protocol == "")
	set(qQPS, strconv.FormatFloat(o.QPS, 'g', -1, 64), o.QPS == 0)
	set(qArrival, o.Arrival.String(), o.Arrival.Kind == "")
	set(qSeed, strconv.FormatUint(o.Seed, 10), o.Seed == 0)
	set(qConnections, strconv.Itoa(o.Connections), o.Connections == 0)
	set(qExpectedLatency, o.ExpectedLatency.String(), o.ExpectedLatency == 0)
	set(qDuration, o.Duration.String(), o.Duration == 0)
	set(qWarmup, o.Warmup.String(), o.Warmup == 0)
	set(qPayloadSize, strconv.Itoa(o.PayloadSize), o.PayloadSize == 0)
	for _, h := range o.Headers {
		q.Add(qHeader, h)
	}
	set(qLabels, o.Labels, o.Labels == "")
	set(qRequestTimeout, o.RequestTimeout.String(), o.RequestTimeout == 0)
	set(qConnectTimeout, o.ConnectTimeout.String(), o.ConnectTimeout == 0)
	ratio := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	set(qMinAchieved, ratio(o.Limits.MinAchievedRatio), o.Limits.MinAchievedRatio == 0)
	set(qMaxErrors, ratio(o.Limits.MaxErrorRatio), o.Limits.MaxErrorRatio == 0)
	set(qMaxBehind, ratio(o.Limits.MaxBehindRatio), o.Limits.MaxBehindRatio == 0)
	set(qCPUWarn, ratio(o.Limits.CPUWarnFraction), o.Limits.CPUWarnFraction == 0)
	set(qNoRealtime, "true", !o.NoRealtime)
	return q
}

// optionsFromQuery decodes /v1/run's query; an unknown parameter is an
// error, so that a typo is not a silently different run.
func optionsFromQuery(q url.Values) (Options, error) {
	var o Options
	d := queryDecoder{q: q}
	o.URL = q.Get(qURL)
	o.Protocol = Protocol(q.Get(qProtocol))
	o.QPS = d.float(qQPS, FieldQPS)
	if s := q.Get(qArrival); s != "" && d.err == nil {
		if a, err := ParseArrival(s); err != nil {
			d.err = fieldErr(FieldArrival, "%v", err)
		} else {
			o.Arrival = a
		}
	}
	o.Seed = d.uint(qSeed, FieldSeed)
	o.Connections = int(d.int(qConnections, FieldConnections, 32))
	o.ExpectedLatency = d.duration(qExpectedLatency, FieldExpectedLatency)
	o.Duration = d.duration(qDuration, FieldDuration)
	o.Warmup = d.duration(qWarmup, FieldWarmup)
	o.PayloadSize = int(d.int(qPayloadSize, FieldPayloadSize, 32))
	o.Headers = q[qHeader]
	o.Labels = q.Get(qLabels)
	o.RequestTimeout = d.duration(qRequestTimeout, FieldRequestTimeout)
	o.ConnectTimeout = d.duration(qConnectTimeout, FieldConnectTimeout)
	if s := q.Get(qNoRealtime); s != "" && d.err == nil {
		v, err := strconv.ParseBool(s)
		if err != nil {
			d.err = queryError(fmt.Sprintf("%s: expected true or false, got %q", qNoRealtime, s))
		}
		o.NoRealtime = v
	}
	o.Limits = Limits{
		MinAchievedRatio: d.float(qMinAchieved, FieldMinAchieved), MaxErrorRatio: d.float(qMaxErrors, FieldMaxErrorRatio),
		MaxBehindRatio: d.float(qMaxBehind, FieldMaxBehindRatio), CPUWarnFraction: d.float(qCPUWarn, FieldCPUWarnFraction),
	}
	if d.err != nil {
		return Options{}, d.err
	}
	known := map[string]bool{qURL: true, qProtocol: true, qQPS: true, qArrival: true, qSeed: true, qConnections: true, qExpectedLatency: true,
		qDuration: true, qWarmup: true, qPayloadSize: true, qHeader: true, qLabels: true, qRequestTimeout: true,
		qConnectTimeout: true, qMinAchieved: true, qMaxErrors: true, qMaxBehind: true, qCPUWarn: true, qNoRealtime: true}
	for key := range q {
		if !known[key] {
			return Options{}, queryError(fmt.Sprintf("unknown run parameter %q", key))
		}
	}
	return o, o.Validate()
}

// queryError is a malformed /v1/run query.
type queryError string

func (e queryError) Error() string { return string(e) }

// queryDecoder parses query parameters, keeping the first error.
type queryDecoder struct {
	q   url.Values
	err error
}

func (d *queryDecoder) raw(key string) (string, bool) {
	s := d.q.Get(key)
	return s, s != "" && d.err == nil
}

func (d *queryDecoder) float(key string, f Field) float64 {
	s, ok := d.raw(key)
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		d.err = fieldErr(f, "expected a number, got %q", s)
	}
	return v
}

func (d *queryDecoder) int(key string, f Field, bits int) int64 {
	s, ok := d.raw(key)
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		d.err = fieldErr(f, "expected a whole number, got %q", s)
	}
	return v
}

func (d *queryDecoder) uint(key string, f Field) uint64 {
	s, ok := d.raw(key)
	if !ok {
		return 0
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		d.err = fieldErr(f, "expected a whole number, got %q", s)
	}
	return v
}

func (d *queryDecoder) duration(key string, f Field) time.Duration {
	s, ok := d.raw(key)
	if !ok {
		return 0
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.err = fieldErr(f, "expected a duration such as 10s, got %q", s)
	}
	return v
}

// AgentClient drives one load agent.
type AgentClient struct {
	// BaseURL is the agent's root: http://10.1.2.3:8077, or through the
	// Kubernetes API server's pod proxy
	// https://API/api/v1/namespaces/NS/pods/POD:8077/proxy.
	BaseURL string
	// Transport carries the calls (for the pod proxy: the API server's
	// authenticated transport, rest.TransportFor); nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// Run makes one run on the agent and returns its result, as Run would
// locally; bad options come back as a *FieldError, an unreachable target as
// an *UnreachableError. Cancelling ctx abandons the call; call Stop too
// where a proxy in between does not pass the cancellation on.
func (c *AgentClient) Run(ctx context.Context, o Options) (*Result, error) {
	var reply agentReply
	if err := c.get(ctx, agentRunPath, agentQuery(o), &reply); err != nil {
		var ae *agentCallError
		if errors.As(err, &ae) {
			switch {
			case ae.reply.Field != "":
				return nil, &FieldError{Field: ae.reply.Field, Msg: ae.reply.Error}
			case ae.reply.Unreachable:
				return nil, &UnreachableError{URL: o.URL, Err: errors.New(strings.TrimPrefix(ae.reply.Error, "target "+o.URL+": "))}
			}
		}
		return nil, err
	}
	if reply.HTTP == nil && reply.GRPC == nil {
		return nil, fmt.Errorf("load agent %s: the reply holds no result", c.BaseURL)
	}
	return &Result{Summary: reply.Summary, HTTP: reply.HTTP, GRPC: reply.GRPC, Intended: reply.Intended,
		Schedule: reply.Schedule}, nil
}

// Stop cancels the agent's run in progress, if any.
func (c *AgentClient) Stop(ctx context.Context) error {
	var reply map[string]bool
	return c.get(ctx, agentStopPath, nil, &reply)
}

// Running says whether the agent has a run in progress.
func (c *AgentClient) Running(ctx context.Context) (bool, error) {
	var reply map[string]bool
	err := c.get(ctx, agentStatusPath, nil, &reply)
	return reply["running"], err
}

// Ready checks that the agent answers.
func (c *AgentClient) Ready(ctx context.Context) error {
	return c.get(ctx, agentHealth, nil, nil)
}

// agentCallError is an agent's refusal, with its reasons.
type agentCallError struct {
	status int
	reply  agentError
	base   string
}

func (e *agentCallError) Error() string {
	return fmt.Sprintf("load agent %s: %s (HTTP %d)", e.base, e.reply.Error, e.status)
}

func (c *AgentClient) get(ctx context.Context, path string, q url.Values, into any) error {
	u := strings.TrimSuffix(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("load agent %s: %w", c.BaseURL, err)
	}
	client := http.Client{Transport: c.Transport}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("load agent %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var reply agentError
		if json.NewDecoder(resp.Body).Decode(&reply) != nil || reply.Error == "" {
			reply.Error = resp.Status
		}
		return &agentCallError{status: resp.StatusCode, reply: reply, base: c.BaseURL}
	}
	if into == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("load agent %s: reading its reply: %w", c.BaseURL, err)
	}
	return nil
}
