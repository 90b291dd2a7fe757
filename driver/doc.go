// Package driver holds what the sweep's backends share: the backend
// interface the sweep drives, the load of one step (LoadSpec) and what a
// backend measured over it (Measurement), so a sweep reads the same whether
// its proxy is a local process under a cgroup quota (driver/local) or a
// cluster's sidecar (driver/kube). The setting a step runs at is
// results.Setting, part of the results schema.
package driver
