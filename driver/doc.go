// Package driver holds what the sweep's backends share: the setting a step
// runs at (Envoy concurrency and sidecar CPU limit) and the backend interface
// the sweep drives, so a sweep reads the same whether its proxy is a local
// process under a cgroup quota (driver/local) or a cluster's sidecar
// (driver/kube).
package driver
