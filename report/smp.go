package report

import (
	"encoding/json"
	"fmt"
	"math"
	"path"
	"strconv"
	"time"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/results"
)

// The SMP document follows the messages of the Service Mesh Performance
// spec (github.com/service-mesh-performance/service-mesh-performance,
// protos/service_mesh_performance.proto): EnvironmentConfig once, and per run
// a PerformanceTestConfig, a ServiceMeshConfig and a PerformanceTestResult,
// with the proto's field names. Values the sweep has no source for are left
// out (not invented) and listed in fields_without_source.

// SMPSpec names the spec and messages the document follows.
const SMPSpec = "Service Mesh Performance (smp), protos/service_mesh_performance.proto: EnvironmentConfig, PerformanceTestConfig, ServiceMeshConfig, PerformanceTestResult"

type smpDocument struct {
	Spec                string         `json:"spec"`
	Generator           string         `json:"generator"`
	ProxyLabel          string         `json:"proxy_label"`
	Environment         smpEnvironment `json:"environment_config"`
	Runs                []smpRun       `json:"runs"`
	FieldsWithoutSource []string       `json:"fields_without_source"`
}

type smpRun struct {
	Role       string         `json:"role"` // "through the proxy" or "baseline"
	TestConfig smpTestConfig  `json:"performance_test_config"`
	MeshConfig *smpMeshConfig `json:"service_mesh_config,omitempty"`
	Result     smpTestResult  `json:"performance_test_result"`
}

type smpEnvironment struct {
	ID                string            `json:"id"`
	Labels            map[string]string `json:"labels"`
	KubernetesVersion string            `json:"kubernetes_version,omitempty"`
	Node              []smpNode         `json:"node"`
}

type smpNode struct {
	Type  string `json:"type"`
	Cores int32  `json:"cores"`
}

type smpTestConfig struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels"`
	Clients  []smpClient       `json:"clients"`
	Duration string            `json:"duration"`
}

type smpClient struct {
	Internal      bool   `json:"internal"`
	LoadGenerator string `json:"load_generator"`
	Protocol      string `json:"protocol"`
	Connections   int32  `json:"connections"`
	RPS           int64  `json:"rps"`
}

type smpMeshConfig struct {
	ID               string            `json:"id"`
	Labels           map[string]string `json:"labels"`
	Sidecar          smpSidecar        `json:"sidecar"`
	MTLSEnabled      bool              `json:"mtls_enabled"`
	ProxyConcurrency int32             `json:"proxy_concurrency"`
	ProxyBuild       string            `json:"proxy_build"`
	Profile          string            `json:"profile,omitempty"`
}

type smpSidecar struct {
	Count     int32 `json:"count"`
	CPUMCores int32 `json:"cpu_mCores"`
	MemMB     int32 `json:"mem_mb"`
	RPS       int32 `json:"rps"`
}

type smpTestResult struct {
	ID           string            `json:"id"`
	Labels       map[string]string `json:"labels"`
	StartTime    string            `json:"start_time,omitempty"`
	EndTime      string            `json:"end_time,omitempty"`
	LatenciesMs  smpLatency        `json:"latencies_ms"`
	ActualQPS    float64           `json:"actual_QPS"`
	DetailsURI   string            `json:"details_uri,omitempty"`
	TestID       string            `json:"testId"`
	MeshConfigID string            `json:"meshConfigId,omitempty"`
	EnvID        string            `json:"envId"`
}

type smpLatency struct {
	Min     float64 `json:"min"`
	Average float64 `json:"average"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
}

// smpWithoutSource are the spec's fields a proxysizer sweep cannot fill.
var smpWithoutSource = []string{
	"smp_version (the spec publishes no version string for these messages)",
	"EnvironmentConfig.node.mem_mb and individual_workloads (node memory and the lab app's resources are not recorded)",
	"PerformanceTestConfig.clients.headers, cookies, body, endpoint_url (fortio's own result in details_uri has the URL)",
	"ServiceMeshConfig.sidecar.bps (bytes are not counted)",
	"ServiceMeshConfig ingress_gateway, mesh_telemetry, mesh_policy, mesh_control_plane, mesh_build, mesh_type (one proxy, no mesh control plane)",
	"ServiceMeshConfig.exp_group_uuid, exp_uuid (ids are the sweep's start time and step index instead)",
}

// SMP builds smp.json: one run per finished step through the proxy and one
// per baseline run.
func SMP(in Input, fortio fortioExport) ([]byte, error) {
	rec := in.Sweep
	sweepID := "proxysizer-" + rec.StartedAt.UTC().Format("20060102-150405")
	env := rec.Environment
	doc := smpDocument{Spec: SMPSpec, Generator: "proxysizer " + rec.Tool, ProxyLabel: charts.ProxyLabel(rec.Proxy),
		Environment: smpEnvironment{ID: sweepID + "-env", Node: []smpNode{{Type: nodeType(rec), Cores: int32(env.Cores)}},
			Labels: map[string]string{"backend": rec.Backend, "hostname": env.Hostname, "kernel": env.Kernel, "cgroup_version": env.CgroupVersion,
				"cpu_limits_enforced": strconv.FormatBool(env.CPULimitsEnforced), "placement": env.Placement.Note}},
		FieldsWithoutSource: smpWithoutSource, Runs: []smpRun{}}
	if env.Cluster != nil {
		doc.Environment.KubernetesVersion = env.Cluster.ServerVersion
	}
	o := rec.Options
	client := func(rps float64) smpClient {
		// The spec's protocol enum has http, tcp, udp and grpc: http1 and h2c
		// are both http (labels.protocol says which).
		return smpClient{Internal: true, LoadGenerator: "fortio", Protocol: "http", Connections: int32(o.Connections), RPS: int64(math.Round(rps))}
	}
	profile := ""
	if in.Fit != nil {
		profile = in.Fit.Profile.Name
	}
	for _, st := range charts.FinishedSteps(rec) {
		s := st.Setting
		id := fmt.Sprintf("%s-step-%03d", sweepID, st.Index)
		labels := map[string]string{"setting": s.Key(), "cpu_limit": s.LimitString(), "status": st.Status, "protocol": o.Protocol,
			"outbound_per_request": strconv.Itoa(o.OutboundPerRequest)}
		if st.Reason != "" {
			labels["invalid_reason"] = st.Reason
		}
		run := smpRun{Role: "through the proxy",
			TestConfig: smpTestConfig{ID: id + "-config", Name: fmt.Sprintf("%s at %g inbound RPS", charts.SettingLabel(s), st.RequestedRPS), Labels: labels,
				Clients: []smpClient{client(st.RequestedRPS)}, Duration: seconds(st.DurationSeconds)},
			MeshConfig: &smpMeshConfig{ID: id + "-mesh", Labels: map[string]string{"proxy": rec.Proxy.Name, "setting": s.Key()},
				Sidecar: smpSidecar{Count: 1, CPUMCores: int32(math.Round(st.ProxyCPUCores * 1000)), MemMB: int32(math.Round(float64(st.MemoryWorkingSetBytes) / 1e6)),
					RPS: int32(math.Round(st.SidecarRPS))},
				ProxyConcurrency: int32(st.Concurrency), ProxyBuild: rec.Proxy.Name + " " + rec.Proxy.Version, Profile: profile},
		}
		run.Result = result(id, labels, st.LatencyMs, st.ActualRPS, fortio.files[st.FortioFile], doc.Environment.ID)
		run.Result.MeshConfigID = run.MeshConfig.ID
		doc.Runs = append(doc.Runs, run)
	}
	for i, b := range rec.Baseline {
		id := fmt.Sprintf("%s-baseline-%02d", sweepID, i)
		labels := map[string]string{"proxy": "none (straight to the app)", "valid": strconv.FormatBool(b.Valid)}
		doc.Runs = append(doc.Runs, smpRun{Role: "baseline",
			TestConfig: smpTestConfig{ID: id + "-config", Name: fmt.Sprintf("baseline at %g inbound RPS", b.RequestedRPS), Labels: labels,
				Clients: []smpClient{client(b.RequestedRPS)}, Duration: seconds(o.DurationSeconds)},
			Result: result(id, labels, b.LatencyMs, b.ActualRPS, fortio.files[b.FortioFile], doc.Environment.ID)})
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func result(id string, labels map[string]string, l results.Latency, qps float64, f fortioRun, envID string) smpTestResult {
	r := smpTestResult{ID: id, Labels: labels, TestID: id, EnvID: envID, ActualQPS: qps,
		LatenciesMs: smpLatency{Min: f.MinMs, Average: l.Avg, P50: l.P50, P90: l.P90, P99: l.P99, Max: l.Max}}
	if !f.StartTime.IsZero() {
		r.StartTime = f.StartTime.UTC().Format(time.RFC3339Nano)
		r.EndTime = f.StartTime.Add(f.Duration).UTC().Format(time.RFC3339Nano)
	}
	if f.Name != "" {
		r.DetailsURI = path.Join(FortioDir, f.Name)
	}
	return r
}

func nodeType(rec *results.Sweep) string {
	if rec.Backend == "kubernetes" {
		return "kubernetes node"
	}
	return "local machine (" + rec.Environment.Kernel + ")"
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}
