// Package kube is the Kubernetes sweep backend (driver.Backend): for each
// setting it has the annotation controller (package cluster) patch a live
// Deployment's Istio sidecar and wait for the rollout, drives load
// generator pods running proxysizer's own engine (the load agent,
// `proxysizer load --serve`) over the API server's pod proxy and merges
// their results as a local run's (intended-start latency and schedule
// gates included), reads the requests through each sidecar from Envoy's own counters, and
// the CPU, throttling and memory from Prometheus (cluster/prom) or
// metrics.k8s.io. Close restores the Deployment and deletes the load pods.
//
// Every call is bounded in time: load pods by their ready timeout, runs by
// their length, and every request by the caller's context.
package kube
