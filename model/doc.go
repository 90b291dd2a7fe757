// Package model is proxysizer's pure math: how many requests a pod's sidecar
// carries for each inbound call (fan-out) and how far a measured count may be
// from it (the hops check), what the proxy's CPU costs at a rate (a cost
// curve: a line, or concave idle + a x (RPS/1000)^b) with the 95% prediction
// interval its uncertainty gives and what would narrow it, and what its
// memory costs for a configuration size and worker count. It does no I/O;
// fitting from measurements lives here too (least squares, the concave fit
// with gonum's optimize, leave-one-rate-out), as functions over numbers.
package model
