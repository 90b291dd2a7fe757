package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"fortio.org/fortio/fhttp"
	"k8s.io/client-go/rest"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/loadgen"
)

// TransportWrapper, when set, wraps the HTTP transport of every Kubernetes
// client the backend builds (the API server, its pod proxy, metrics.k8s.io).
// It is a test hook: the integration tests send pod-proxy requests to
// in-process servers (kwok's pods serve no traffic) and inject faults,
// while everything else reaches the real API server.
var TransportWrapper func(http.RoundTripper) http.RoundTripper

// podProxy reaches a pod's port through the API server's pod proxy
// (/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH): no port-forward, no
// route from this machine to the pod network needed.
type podProxy struct {
	rest rest.Interface // a client without a per-request timeout: contexts bound the calls
	ns   string
}

func (p podProxy) get(ctx context.Context, pod string, port int, path string, params map[string]string) ([]byte, error) {
	req := p.rest.Get().Namespace(p.ns).Resource("pods").Name(fmt.Sprintf("%s:%d", pod, port)).SubResource("proxy").Suffix(path)
	for k, v := range params {
		req = req.Param(k, v)
	}
	body, err := req.Do(ctx).Raw()
	if err != nil {
		return body, fmt.Errorf("GET pods/%s:%d/proxy/%s: %w", pod, port, strings.TrimPrefix(path, "/"), err)
	}
	return body, nil
}

// fortioParams are fortio's REST run parameters for one generator's share
// of the load: fortio's own names (rapi.RESTRunHandler).
func fortioParams(spec driver.LoadSpec, target string, qps float64, connections int, duration time.Duration) map[string]string {
	p := map[string]string{
		"url":     target,
		"c":       strconv.Itoa(connections),
		"t":       duration.String(),
		"r":       strconv.FormatFloat(loadgen.Resolution, 'g', -1, 64),
		"p":       joinFloats(loadgen.Percentiles()),
		"labels":  spec.Labels,
		"uniform": "on", // stagger connections, as local runs do
	}
	if qps > 0 {
		p["qps"] = strconv.FormatFloat(qps, 'f', -1, 64)
	} else {
		p["qps"] = "-1" // fortio's max rate
	}
	if spec.Protocol == loadgen.H2C {
		p["h2"], p["stdclient"] = "on", "on"
	}
	if spec.PayloadSize > 0 {
		p["payload"] = strings.Repeat("x", spec.PayloadSize)
	}
	return p
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// runFortio makes one synchronous run on a generator pod and returns
// fortio's result.
func (p podProxy) runFortio(ctx context.Context, pod string, params map[string]string) (*fhttp.HTTPRunnerResults, error) {
	body, err := p.get(ctx, pod, fortioPort, "fortio/rest/run", params)
	if err != nil {
		var reply struct {
			Error     bool   `json:"error"`
			Message   string `json:"message"`
			Exception string `json:"exception"`
		}
		if json.Unmarshal(body, &reply) == nil && reply.Error {
			return nil, fmt.Errorf("fortio on %s: %s: %s", pod, reply.Message, reply.Exception)
		}
		return nil, err
	}
	var res fhttp.HTTPRunnerResults
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("fortio on %s: reading its result: %w", pod, err)
	}
	if res.Error {
		return nil, fmt.Errorf("fortio on %s: %s: %s", pod, res.Message, res.Exception)
	}
	return &res, nil
}

// stopFortio asks a generator to stop every run (after an interrupt: the
// API server's proxy does not pass the cancellation on).
func (p podProxy) stopFortio(ctx context.Context, pod string) {
	_, _ = p.get(ctx, pod, fortioPort, "fortio/rest/stop", nil)
}

// runGenerators splits a load of totalQPS and connections evenly across the
// generator pods, runs it on all of them at once, and returns their results
// in pod order. On cancellation every generator is told to stop.
func (p podProxy) runGenerators(ctx context.Context, pods []string, spec driver.LoadSpec, target string, totalQPS float64, duration time.Duration) ([]*fhttp.HTTPRunnerResults, error) {
	n := len(pods)
	if n == 0 {
		return nil, errors.New("no load generator pods")
	}
	qps := totalQPS / float64(n)
	conns := max(1, int(math.Ceil(float64(spec.Connections)/float64(n))))
	params := fortioParams(spec, target, qps, conns, duration)
	// The run is synchronous: bound it by its length plus a margin.
	runCtx, cancel := context.WithTimeout(ctx, duration+time.Minute)
	defer cancel()
	results := make([]*fhttp.HTTPRunnerResults, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, pod := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.runFortio(runCtx, pod, params)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		stopCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		for _, pod := range pods {
			p.stopFortio(stopCtx, pod)
		}
		return nil, ctx.Err()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load generators: %w", err)
	}
	return results, nil
}
