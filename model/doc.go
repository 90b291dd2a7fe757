// Package model is proxysizer's pure math: how many requests a pod's sidecar
// carries for each inbound call (fan-out), what the proxy's CPU costs at a rate,
// and what its memory costs for a configuration size and worker count. It does
// no I/O; fitting from measurements lives here too, as functions over numbers.
package model
