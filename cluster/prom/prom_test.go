package prom

import (
	"strings"
	"testing"
	"time"
)

func TestSelectorMatchesExactValues(t *testing.T) {
	for _, tt := range []struct {
		sel  Selector
		want string
	}{
		{Selector{Namespaces: []string{"shop"}, Pods: []string{"web-1", "web-2"}, Containers: []string{"istio-proxy", "app"}},
			`{namespace="shop",pod=~"web-1|web-2",container=~"istio-proxy|app"}`},
		{Selector{Namespaces: []string{"shop", "pay"}, Containers: []string{"istio-proxy"}},
			`{namespace=~"shop|pay",container=~"istio-proxy"}`},
		// A regexp metacharacter in a name matches itself only.
		{Selector{Pods: []string{"web.1"}}, `{pod=~"web\\.1"}`},
		{Selector{}, `{}`},
	} {
		if got := tt.sel.String(); got != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.sel, got, tt.want)
		}
	}
}

func TestUsageQueriesAggregateByNamespacePodContainer(t *testing.T) {
	q := UsageQueries(Selector{Namespaces: []string{"shop"}, Pods: []string{"web-1", "web-2"}, Containers: []string{"istio-proxy", "app"}}, 45*time.Second)
	want := `sum by (namespace, pod, container) (increase(container_cpu_usage_seconds_total{namespace="shop",pod=~"web-1|web-2",container=~"istio-proxy|app"}[45s]))`
	if q["cpu"] != want {
		t.Errorf("cpu query\n got %s\nwant %s", q["cpu"], want)
	}
	if !strings.HasPrefix(q["memory"], "max by (namespace, pod, container) (max_over_time(container_memory_working_set_bytes{") {
		t.Errorf("memory query %s", q["memory"])
	}
	for _, name := range []string{"periods", "throttled"} {
		if !strings.HasPrefix(q[name], "sum by (namespace, pod, container) (increase(container_cpu_cfs_") {
			t.Errorf("%s query %s", name, q[name])
		}
	}
	if got, want := CPURateQuery(Selector{Containers: []string{"app"}}, 2*time.Minute), `sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container=~"app"}[2m]))`; got != want {
		t.Errorf("rate query\n got %s\nwant %s", got, want)
	}
}

func TestScrapeIntervalFromConfiguration(t *testing.T) {
	for _, tt := range []struct {
		name, conf string
		want       ScrapeInterval
	}{
		{"the cadvisor job's own", "global:\n  scrape_interval: 30s\nscrape_configs:\n- job_name: kubernetes-nodes-cadvisor\n  scrape_interval: 10s\n- job_name: other\n",
			ScrapeInterval{Interval: 10 * time.Second, From: "Prometheus' configuration (job kubernetes-nodes-cadvisor)", Found: true}},
		{"the global one", "global:\n  scrape_interval: 1m\n",
			ScrapeInterval{Interval: time.Minute, From: "Prometheus' configuration (global)", Found: true}},
		{"none", "global: {}\n", ScrapeInterval{From: "no scrape_interval in Prometheus' configuration"}},
		{"unparsable", "global: [\n", ScrapeInterval{From: "Prometheus' configuration unparsable"}},
	} {
		if got := scrapeInterval(tt.conf); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestPodPatternAndStateQueries(t *testing.T) {
	sel := Selector{Namespaces: []string{"shop"}, PodPattern: DeploymentPods("web"), Containers: []string{"app", "istio-proxy"}}
	pods := `namespace="shop",pod=~"web-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}"`
	if got, want := sel.String(), "{"+pods+`,container=~"app|istio-proxy"}`; got != want {
		t.Errorf("selector\n got %s\nwant %s", got, want)
	}
	q := PodStateQueries(sel)
	for name, want := range map[string]string{
		"start":    "max by (namespace, pod) (kube_pod_start_time{" + pods + "})",
		"ready":    "max by (namespace, pod) (kube_pod_status_ready{" + pods + `,condition="true"})`,
		"deletion": "max by (namespace, pod) (kube_pod_deletion_timestamp{" + pods + "})",
		"requests": "max by (namespace, pod, container) (kube_pod_container_resource_requests{" + pods + `,container=~"app|istio-proxy",resource="cpu"})`,
	} {
		if q[name] != want {
			t.Errorf("%s query\n got %s\nwant %s", name, q[name], want)
		}
	}
	if got := withMatchers(Selector{}, `a="b"`); got != `{a="b"}` {
		t.Errorf("empty selector with a matcher: %s", got)
	}
}
