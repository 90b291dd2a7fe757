package local

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

var labPortsForTest = Ports{Inbound: 15006, Outbound: 15001, Admin: 15000, App: 8080, AppDirect: 8081, Downstream: 9090}

func TestEnvoyBootstrapIsValidAndRoutesBothDirections(t *testing.T) {
	data, err := Envoy{}.Config(labPortsForTest, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(data, &b); err != nil {
		t.Fatalf("the bootstrap JSON does not parse back: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("go-control-plane rejects the bootstrap: %v", err)
	}
	text := string(data)
	for _, want := range []string{`"portValue": 15006`, `"portValue": 15001`, `"portValue": 15000`, `"statPrefix": "inbound"`, `"statPrefix": "outbound"`, `"cluster": "app"`, `"cluster": "downstream"`} {
		if !strings.Contains(text, want) {
			t.Errorf("bootstrap lacks %s", want)
		}
	}
	args := Envoy{}.Args("/x/envoy.json", 3, "")
	if !reflect.DeepEqual(args, []string{"-c", "/x/envoy.json", "--concurrency", "3", "--disable-hot-restart", "--log-level", "warn"}) {
		t.Errorf("args = %v", args)
	}
}

func TestEnvoyBootstrapRejectsAnInvalidPort(t *testing.T) {
	bad := labPortsForTest
	bad.Admin = 70000 // above uint16: the generated validator refuses it
	if _, err := (Envoy{}).Bootstrap(bad); err == nil || !strings.Contains(err.Error(), "PortValue") {
		t.Errorf("Bootstrap with port 70000: %v, want a validation error", err)
	}
}

func TestEnvoyCountersFromStats(t *testing.T) {
	data, err := os.ReadFile("testdata/envoy-stats-prometheus.txt")
	if err != nil {
		t.Fatal(err)
	}
	c, err := EnvoyCounters(data)
	if err != nil {
		t.Fatal(err)
	}
	// The admin listener's own requests are not the sidecar's traffic.
	if c.Inbound != 1204 || c.Outbound != 2408 || c.Total != 3612 || !c.Split {
		t.Errorf("counters = %+v", c)
	}
	fams, _ := ParsePrometheus(data)
	if v, ok := SumCounter(fams, "envoy_server_concurrency", nil); !ok || v != 2 {
		t.Errorf("server.concurrency = %v %v", v, ok)
	}
	if _, err := EnvoyCounters([]byte("# TYPE x counter\nx{} 1\n")); err == nil {
		t.Error("stats without the listeners' counters were accepted")
	}
}

func TestHAProxyCountersAndConfig(t *testing.T) {
	metrics := `# HELP haproxy_frontend_http_requests_total Total number of HTTP requests received
# TYPE haproxy_frontend_http_requests_total counter
haproxy_frontend_http_requests_total{proxy="inbound"} 905
haproxy_frontend_http_requests_total{proxy="outbound"} 1808
haproxy_frontend_http_requests_total{proxy="admin"} 31
`
	c, err := haproxyCounters([]byte(metrics))
	if err != nil || c.Inbound != 905 || c.Total != 2713 {
		t.Errorf("counters = %+v, %v", c, err)
	}
	cfg, err := HAProxy{}.Config(labPortsForTest, 4, "")
	if err != nil || !strings.Contains(string(cfg), "nbthread 4") || !strings.Contains(string(cfg), "bind 127.0.0.1:15006") {
		t.Errorf("config:\n%s", cfg)
	}
}

func TestNginxStubStatusAndConfig(t *testing.T) {
	n, err := ParseStubStatus([]byte("Active connections: 2 \nserver accepts handled requests\n 16 16 31 \nReading: 0 Writing: 1 Waiting: 1 \n"))
	if err != nil || n != 31 {
		t.Errorf("requests = %d, %v", n, err)
	}
	if _, err := ParseStubStatus([]byte("<html>404</html>")); err == nil {
		t.Error("a non-stub_status page was accepted")
	}
	cfg, _ := Nginx{}.Config(labPortsForTest, 3, "/work/lab")
	if !strings.Contains(string(cfg), "worker_processes 3;") || !strings.Contains(string(cfg), "pid /work/lab/nginx.pid;") {
		t.Errorf("config:\n%s", cfg)
	}
}

// A cgroup v2 hierarchy laid out in a temporary directory: the files the
// kernel would provide are written by the test, so this checks proxysizer's
// reading and writing of the v2 formats, not the kernel.
func TestCgroupV2Formats(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpuset cpu memory"), 0o644)
	h := newV2(root, "0::/\n")
	cg, err := h.Create("proxysizer-1-c2-l500m")
	if err != nil {
		t.Fatal(err)
	}
	if err := cg.SetCPULimit(500); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "proxysizer-1-c2-l500m")
	if got, _ := os.ReadFile(filepath.Join(dir, "cpu.max")); string(got) != "50000 100000" {
		t.Errorf("cpu.max = %q, want a 50 ms quota per 100 ms period", got)
	}
	cg.SetCPULimit(0)
	if got, _ := os.ReadFile(filepath.Join(dir, "cpu.max")); string(got) != "max 100000" {
		t.Errorf("cpu.max without a limit = %q", got)
	}
	os.WriteFile(filepath.Join(dir, "cpu.stat"), []byte("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 40\nnr_throttled 10\nthrottled_usec 250000\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "memory.current"), []byte("10485760\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "memory.stat"), []byte("anon 6291456\nfile 4194304\ninactive_file 2097152\n"), 0o644)
	u, err := cg.Usage()
	if err != nil {
		t.Fatal(err)
	}
	want := Usage{CPUNanos: 1500000000, Periods: 40, ThrottledPeriods: 10, ThrottledNanos: 250000000, WorkingSet: 8388608, HasMemory: true}
	if u != want {
		t.Errorf("usage = %+v, want %+v", u, want)
	}
	if names, _ := h.List(CgroupPrefix); len(names) != 1 {
		t.Errorf("List = %v", names)
	}
}

func TestPlacementAndCPULists(t *testing.T) {
	p := PlanPlacement([]int{0, 1, 2, 3})
	if CPUList(p.GeneratorCPUs) != "0-1" || CPUList(p.ProxyCPUs) != "2-3" || !p.Separate() {
		t.Errorf("placement = %+v", p)
	}
	if one := PlanPlacement([]int{0}); one.Separate() {
		t.Errorf("one CPU split: %+v", one)
	}
	if got := CPUList([]int{0, 1, 2, 5, 7, 8}); got != "0-2,5,7-8" {
		t.Errorf("CPUList = %q, want ranges folded: 0-2,5,7-8", got)
	}
}

func TestCommandLineTemplate(t *testing.T) {
	got := CommandLine("/opt/haproxy-3/haproxy -f {config} -db -- {concurrency}", "/w/h.cfg", 4)
	if !reflect.DeepEqual(got, []string{"/opt/haproxy-3/haproxy", "-f", "/w/h.cfg", "-db", "--", "4"}) {
		t.Errorf("CommandLine = %v", got)
	}
}

func TestStateRecordsAndForgets(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	s, err := newState()
	if err != nil {
		t.Fatal(err)
	}
	s.addCgroup("proxysizer-1-a")
	s.addProcGroup(4242)
	var onDisk state
	data, _ := os.ReadFile(s.path)
	json.Unmarshal(data, &onDisk)
	if !reflect.DeepEqual(onDisk.Cgroups, []string{"proxysizer-1-a"}) || !reflect.DeepEqual(onDisk.ProcGroups, []int{4242}) || !s.alive() {
		t.Errorf("state = %+v", onDisk)
	}
	s.removeCgroup("proxysizer-1-a")
	s.removeProcGroup(4242)
	if len(s.Cgroups) != 0 || len(s.ProcGroups) != 0 {
		t.Errorf("state after removal = %+v", s)
	}
	if pid, ok := cgroupOwner("proxysizer-4242-c2-l500m"); !ok || pid != 4242 {
		t.Errorf("owner = %d %v", pid, ok)
	}
}

func TestSumCounterPrefixMatchesIstioHCMPrefixes(t *testing.T) {
	text := []byte(`# TYPE envoy_http_downstream_rq_total counter
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_0.0.0.0_8080"} 100
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_0.0.0.0_9090"} 5
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="outbound_0.0.0.0_8080"} 200
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="outbound_.8080_._.downstream.shop.svc.cluster.local"} 7
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="admin"} 3
`)
	fams, err := ParsePrometheus(text)
	if err != nil {
		t.Fatal(err)
	}
	const name, label = "envoy_http_downstream_rq_total", "envoy_http_conn_manager_prefix"
	if in, ok := SumCounterPrefix(fams, name, label, "inbound_"); !ok || in != 105 {
		t.Errorf("inbound %d %v", in, ok)
	}
	if out, ok := SumCounterPrefix(fams, name, label, "outbound_"); !ok || out != 207 {
		t.Errorf("outbound %d %v", out, ok)
	}
	if _, ok := SumCounterPrefix(fams, name, label, "gateway_"); ok {
		t.Error("no sample has that prefix")
	}
	if _, ok := SumCounterPrefix(fams, "missing", label, "inbound_"); ok {
		t.Error("no such family")
	}
}
