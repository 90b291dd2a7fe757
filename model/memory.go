package model

import "fmt"

// MemoryCost models the proxy's memory from the configuration it holds and its
// worker count, not from the request rate (Istio: proxy memory depends on the
// listeners, clusters and routes it holds). Envoy keeps per-cluster state once
// and per-worker copies of some of it (connection pools, thread-local cluster
// data), so extra workers cost memory per cluster (envoyproxy/envoy#15231).
type MemoryCost struct {
	// BaseBytes is the proxy's memory with its reference configuration and one
	// worker: for reference profiles, the published figure.
	BaseBytes float64 `json:"base_bytes"`
	// PerClusterBytes is the cost of each cluster (upstream service port).
	PerClusterBytes float64 `json:"per_cluster_bytes"`
	// PerEndpointBytes is the cost of each endpoint (upstream pod address).
	PerEndpointBytes float64 `json:"per_endpoint_bytes"`
	// PerWorkerBytes is a fixed cost of each worker beyond the first.
	PerWorkerBytes float64 `json:"per_worker_bytes"`
	// PerWorkerPerClusterBytes is each extra worker's cost per cluster.
	PerWorkerPerClusterBytes float64 `json:"per_worker_per_cluster_bytes"`
}

// Config is the size of the configuration one proxy holds.
type Config struct {
	Clusters  int
	Endpoints int
}

// MemoryBreakdown shows where the modelled bytes come from.
type MemoryBreakdown struct {
	Base      float64 `json:"base_bytes"`
	Clusters  float64 `json:"clusters_bytes"`
	Endpoints float64 `json:"endpoints_bytes"`
	Workers   float64 `json:"workers_bytes"`
	Total     float64 `json:"total_bytes"`
}

// Estimate is the working set of a proxy holding cfg with the given workers.
func (m MemoryCost) Estimate(cfg Config, workers int) MemoryBreakdown {
	extra := float64(max(0, workers-1))
	b := MemoryBreakdown{
		Base:      m.BaseBytes,
		Clusters:  m.PerClusterBytes * float64(cfg.Clusters),
		Endpoints: m.PerEndpointBytes * float64(cfg.Endpoints),
		Workers:   extra * (m.PerWorkerBytes + m.PerWorkerPerClusterBytes*float64(cfg.Clusters)),
	}
	b.Total = b.Base + b.Clusters + b.Endpoints + b.Workers
	return b
}

// Validate reports negative or non-finite terms.
func (m MemoryCost) Validate() error {
	terms := []struct {
		name  string
		value float64
	}{
		{"base_bytes", m.BaseBytes}, {"per_cluster_bytes", m.PerClusterBytes},
		{"per_endpoint_bytes", m.PerEndpointBytes}, {"per_worker_bytes", m.PerWorkerBytes},
		{"per_worker_per_cluster_bytes", m.PerWorkerPerClusterBytes},
	}
	for _, term := range terms {
		if !NonNegative(term.value) {
			return fmt.Errorf("%s must be a finite number >= 0, got %v", term.name, term.value)
		}
	}
	if m.BaseBytes <= 0 {
		return fmt.Errorf("base_bytes must be > 0, got %v", m.BaseBytes)
	}
	return nil
}
