package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/testenv"
)

func startAgent(t *testing.T) *AgentClient {
	t.Helper()
	srv := httptest.NewServer(&Agent{})
	t.Cleanup(srv.Close)
	return &AgentClient{BaseURL: srv.URL}
}

// TestAgentRunsAsALocalRunDoes: a run through the agent carries every
// figure a local run has, intended-start latency and schedule included.
func TestAgentRunsAsALocalRunDoes(t *testing.T) {
	client := startAgent(t)
	res, err := client.Run(context.Background(), Options{URL: fortioEcho(t), QPS: 200, Connections: 4,
		Duration: time.Second, Arrival: Arrival{Kind: Poisson}, Seed: 3, Labels: "agent test", Headers: []string{"X-Test: 1"}})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Logf("%s valid %v %v", s.Line(), s.Valid, s.InvalidReasons)
	if s.Requests != 200 || s.Arrival != "poisson" || s.Connections != 4 || s.Labels != "agent test" || s.GeneratorCPUCores <= 0 {
		t.Errorf("summary %+v", s)
	}
	if res.Intended == nil || res.Intended.Count != 200 || s.IntendedLatencyMs == nil || s.IntendedLatencyMs.P99 <= 0 {
		t.Errorf("intended histogram %+v, summary %+v", res.Intended, s.IntendedLatencyMs)
	}
	if res.Schedule == nil || res.Schedule.Planned != 200 || res.Schedule.Completed != 200 {
		t.Errorf("schedule %+v", res.Schedule)
	}
	if res.HTTP == nil || res.HTTP.DurationHistogram.Count != 200 || res.HTTP.RetCodes[200] != 200 || res.HTTP.Labels != "agent test" {
		t.Errorf("fortio result %+v", res.HTTP)
	}
}

// TestAgentThroughAPodProxy drives the agent the way the Kubernetes
// backend reaches a pod: through a proxy that mounts it under a path and
// wants a credential the caller's http.RoundTripper adds.
func TestAgentThroughAPodProxy(t *testing.T) {
	agent := httptest.NewServer(&Agent{})
	t.Cleanup(agent.Close)
	target, _ := url.Parse(agent.URL)
	const mount = "/api/v1/namespaces/shop/pods/proxysizer-load-0:8077/proxy"
	upstream := httputil.NewSingleHostReverseProxy(target)
	apiServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer token" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if !strings.HasPrefix(r.URL.Path, mount+"/") {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, mount)
		upstream.ServeHTTP(w, r)
	}))
	t.Cleanup(apiServer.Close)

	bare := &AgentClient{BaseURL: apiServer.URL + mount}
	if err := bare.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the credential: %v, want a 401", err)
	}
	client := &AgentClient{BaseURL: apiServer.URL + mount, Transport: bearer{"token", http.DefaultTransport}}
	if err := client.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := client.Run(context.Background(), Options{URL: fortioEcho(t), QPS: 100, Connections: 2, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests != 50 || res.Intended == nil || res.Schedule == nil {
		t.Errorf("through the proxy: %d calls, intended %v, schedule %v", res.Summary.Requests, res.Intended != nil, res.Schedule)
	}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func TestAgentRefusals(t *testing.T) {
	client := startAgent(t)
	ctx := context.Background()
	_, err := client.Run(ctx, Options{URL: fortioEcho(t), QPS: 100, Connections: -1, Duration: time.Second})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != FieldConnections || fe.Msg != "expected 1..10000, got -1" {
		t.Errorf("bad connections: %v, want the connections field error", err)
	}
	closed := testenv.ClosedPortURL(t)
	_, err = client.Run(ctx, Options{URL: closed, QPS: 100, Duration: time.Second, ConnectTimeout: time.Second})
	if !IsUnreachable(err) || err.Error() != "target "+closed+": connection refused" {
		t.Errorf("closed port: %v, want the local run's unreachable error", err)
	}
	if _, err := optionsFromQuery(url.Values{"url": {fortioEcho(t)}, "qps": {"10"}, "conections": {"3"}}); err == nil ||
		!strings.Contains(err.Error(), `"conections"`) {
		t.Errorf("a misspelt parameter: %v, want it named", err)
	}
}

// TestAgentRunsOneAtATimeAndStops: a second run is refused while one is in
// progress, and Stop ends the first at once.
func TestAgentRunsOneAtATimeAndStops(t *testing.T) {
	client := startAgent(t)
	long := Options{URL: fortioEcho(t), QPS: 50, Connections: 2, Duration: 30 * time.Second}
	done := make(chan error, 1)
	go func() {
		_, err := client.Run(context.Background(), long)
		done <- err
	}()
	for start, running := time.Now(), false; !running; {
		var err error
		if running, err = client.Running(context.Background()); err != nil || time.Since(start) > 5*time.Second {
			t.Fatalf("the long run did not begin within 5s (%v)", err)
		}
	}
	_, err := client.Run(context.Background(), long)
	if err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("second run: %v, want a 409 while the first runs", err)
	}
	start := time.Now()
	if err := client.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "run stopped") {
			t.Errorf("stopped run: %v, want run stopped", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the run did not stop within 3s")
	}
	t.Logf("stopped in %v", time.Since(start))
}

// TestMergeResultsOfAgents: two agents at once, merged, count every call
// once, with the intended-start latency and the schedule of both.
func TestMergeResultsOfAgents(t *testing.T) {
	agents := []*AgentClient{startAgent(t), startAgent(t)}
	echo := fortioEcho(t)
	parts := make([]*Result, len(agents))
	errs := make([]error, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() {
			parts[i], errs[i] = a.Run(context.Background(), Options{URL: echo, QPS: 100, Connections: 2, Duration: time.Second})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	res, err := MergeResults(RemoteRun{URL: echo, QPS: 200, Protocol: HTTP1}, parts)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Logf("merged: %s valid %v %v", s.Line(), s.Valid, s.InvalidReasons)
	if s.Requests != 200 || s.Connections != 4 || s.RequestedQPS != 200 || s.Arrival != "uniform" {
		t.Errorf("merged summary %+v", s)
	}
	if res.Intended.Count != 200 || s.IntendedLatencyMs == nil || res.Schedule.Planned != 200 || res.Schedule.Completed != 200 {
		t.Errorf("merged intended %+v schedule %+v", res.Intended, res.Schedule)
	}
	if want := parts[0].Summary.GeneratorCPUCores + parts[1].Summary.GeneratorCPUCores; s.GeneratorCPUCores != want || want <= 0 {
		t.Errorf("generator CPU %.3f, want the sum %.3f", s.GeneratorCPUCores, want)
	}
	if s.AchievedRatio < 0.97 || s.AchievedRatio > 1.01 {
		t.Errorf("achieved ratio %.3f", s.AchievedRatio)
	}
}
