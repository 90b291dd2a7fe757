package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Envoy runs Envoy with --concurrency workers from a generated bootstrap:
// an inbound listener to the app and an outbound listener to the
// downstream, as a sidecar has, and an admin port for /stats.
type Envoy struct{}

func (Envoy) Name() string       { return "envoy" }
func (Envoy) Binary() string     { return "envoy" }
func (Envoy) ConfigName() string { return "envoy.json" }

func (Envoy) Version(ctx context.Context, binary string) (string, error) {
	out, err := exec.CommandContext(ctx, binary, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", binary, err)
	}
	return firstLine(out), nil
}

// Stat prefixes of the two HTTP connection managers, as Istio names its
// sidecar listeners' directions.
const (
	envoyInboundPrefix  = "inbound"
	envoyOutboundPrefix = "outbound"
)

// Bootstrap builds the Envoy bootstrap for the lab and validates it with
// go-control-plane's generated validators.
func (Envoy) Bootstrap(p Ports) (*bootstrapv3.Bootstrap, error) {
	inbound, err := envoyListener("inbound", envoyInboundPrefix, p.Inbound, "app")
	if err != nil {
		return nil, err
	}
	outbound, err := envoyListener("outbound", envoyOutboundPrefix, p.Outbound, "downstream")
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: "proxysizer-lab", Cluster: "proxysizer"},
		Admin: &bootstrapv3.Admin{
			Address: socketAddress(p.Admin),
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: []*listenerv3.Listener{inbound, outbound},
			Clusters:  []*clusterv3.Cluster{envoyCluster("app", p.App), envoyCluster("downstream", p.Downstream)},
		},
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("envoy bootstrap: %w", err)
	}
	return b, nil
}

func (e Envoy) Config(p Ports, _ int, _ string) ([]byte, error) {
	b, err := e.Bootstrap(p)
	if err != nil {
		return nil, err
	}
	data, err := protojson.Marshal(b)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace from build to build on purpose;
	// re-indenting makes the file the same for the same bootstrap.
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (Envoy) Args(configPath string, concurrency int, _ string) []string {
	return []string{"-c", configPath, "--concurrency", fmt.Sprint(concurrency),
		"--disable-hot-restart", "--log-level", "warn"}
}

func (Envoy) ReadCounters(ctx context.Context, p Ports) (Counters, error) {
	body, err := fetch(ctx, fmt.Sprintf("http://127.0.0.1:%d/stats/prometheus", p.Admin))
	if err != nil {
		return Counters{}, err
	}
	return EnvoyCounters(body)
}

// EnvoyCounters reads the inbound and outbound connection managers'
// downstream request totals from Envoy's Prometheus stats.
func EnvoyCounters(body []byte) (Counters, error) {
	fams, err := ParsePrometheus(body)
	if err != nil {
		return Counters{}, fmt.Errorf("envoy stats: %w", err)
	}
	const name = "envoy_http_downstream_rq_total"
	in, ok1 := SumCounter(fams, name, map[string]string{"envoy_http_conn_manager_prefix": envoyInboundPrefix})
	out, ok2 := SumCounter(fams, name, map[string]string{"envoy_http_conn_manager_prefix": envoyOutboundPrefix})
	if !ok1 || !ok2 {
		return Counters{}, fmt.Errorf("envoy stats lack %s for the %s and %s connection managers", name, envoyInboundPrefix, envoyOutboundPrefix)
	}
	return Counters{Inbound: in, Outbound: out, Total: in + out, Split: true, Source: "envoy /stats/prometheus: " + name}, nil
}

func (Envoy) ScrapesCounted() int64 { return 0 }

func socketAddress(port int) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
	}}}
}

func envoyListener(name, statPrefix string, port int, cluster string) (*listenerv3.Listener, error) {
	router, err := anypb.New(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: statPrefix,
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: name,
			VirtualHosts: []*routev3.VirtualHost{{
				Name:    name,
				Domains: []string{"*"},
				Routes: []*routev3.Route{{
					Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
					Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}},
				}},
			}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}},
	}
	typed, err := anypb.New(hcm)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:    name,
		Address: socketAddress(port),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed},
		}}}},
	}, nil
}

func envoyCluster(name string, port int) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(5e9),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(port)}},
			}}}},
		},
	}
}
