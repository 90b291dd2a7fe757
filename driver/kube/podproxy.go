package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
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
	// transport is the same client's authenticated transport, for callers
	// that build their own requests (the load agents' client).
	transport http.RoundTripper
	ns        string
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

// baseURL is the pod proxy's URL of a pod's port: what a path on that port
// is appended to.
func (p podProxy) baseURL(pod string, port int) string {
	return p.rest.Get().Namespace(p.ns).Resource("pods").Name(fmt.Sprintf("%s:%d", pod, port)).SubResource("proxy").URL().String()
}

// apiStatusErrors makes the API server's own refusals of a pod-proxy call
// (a metav1.Status: the pod is gone, its port cannot be reached) readable
// by the load agents' client, which reads an error body as the agent
// writes it ({"error": ...}) and would otherwise keep only the status line.
type apiStatusErrors struct{ next http.RoundTripper }

func (t apiStatusErrors) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode == http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var st metav1.Status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" && st.Message != "" {
		body, _ = json.Marshal(map[string]string{"error": "the API server's pod proxy: " + st.Message})
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}
