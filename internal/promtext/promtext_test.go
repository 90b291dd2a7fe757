package promtext

import "testing"

const envoyStats = `# TYPE envoy_http_downstream_rq_total counter
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_0.0.0.0_8080"} 100
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_10.0.0.1_9090"} 5
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="outbound_0.0.0.0_80"} 200
# TYPE envoy_server_concurrency gauge
envoy_server_concurrency 2
# TYPE haproxy_frontend_http_requests_total untyped
haproxy_frontend_http_requests_total{proxy="inbound",code="2xx"} 40
haproxy_frontend_http_requests_total{proxy="inbound",code="5xx"} 2
haproxy_frontend_http_requests_total{proxy="outbound",code="2xx"} 9
# TYPE envoy_cluster_upstream_rq_time histogram
envoy_cluster_upstream_rq_time_bucket{le="+Inf"} 7
envoy_cluster_upstream_rq_time_sum 3
envoy_cluster_upstream_rq_time_count 7
`

func TestSumCountersGaugesAndUntyped(t *testing.T) {
	fams, err := Parse([]byte(envoyStats))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		what  string
		got   func() (int64, bool)
		want  int64
		found bool
	}{
		{"a gauge without labels", func() (int64, bool) { return Sum(fams, "envoy_server_concurrency", nil) }, 2, true},
		{"untyped samples matching one label", func() (int64, bool) {
			return Sum(fams, "haproxy_frontend_http_requests_total", map[string]string{"proxy": "inbound"})
		}, 42, true},
		{"every label pair must match", func() (int64, bool) {
			return Sum(fams, "haproxy_frontend_http_requests_total", map[string]string{"proxy": "inbound", "code": "5xx"})
		}, 2, true},
		{"no sample matches", func() (int64, bool) {
			return Sum(fams, "haproxy_frontend_http_requests_total", map[string]string{"proxy": "admin"})
		}, 0, false},
		{"a histogram is not summed", func() (int64, bool) { return Sum(fams, "envoy_cluster_upstream_rq_time", nil) }, 0, false},
		{"a missing family", func() (int64, bool) { return Sum(fams, "envoy_missing", nil) }, 0, false},
		{"label prefix inbound_", func() (int64, bool) {
			return SumPrefix(fams, "envoy_http_downstream_rq_total", "envoy_http_conn_manager_prefix", "inbound_")
		}, 105, true},
		{"label prefix outbound_", func() (int64, bool) {
			return SumPrefix(fams, "envoy_http_downstream_rq_total", "envoy_http_conn_manager_prefix", "outbound_")
		}, 200, true},
		{"no label with the prefix", func() (int64, bool) {
			return SumPrefix(fams, "envoy_http_downstream_rq_total", "envoy_http_conn_manager_prefix", "gateway_")
		}, 0, false},
	} {
		got, found := tt.got()
		if got != tt.want || found != tt.found {
			t.Errorf("%s: got %d (found %v), want %d (found %v)", tt.what, got, found, tt.want, tt.found)
		}
	}
}

func TestParseRejectsBadText(t *testing.T) {
	if _, err := Parse([]byte("envoy_server_live{ 1\n")); err == nil {
		t.Error("malformed exposition parsed without an error")
	}
}
