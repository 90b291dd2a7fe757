// Package fit turns a sweep's record into a measured cost profile: for each
// concurrency x CPU-limit setting a least-squares line of proxy CPU against
// sidecar RPS (idle cost, cores per 1000 RPS, R², confidence intervals, and
// leave-one-rate-out prediction errors), the maximum it carried, where CFS
// throttling starts, the latency it added, and memory against worker count.
// It reads a results.Sweep and returns data; callers do the I/O. Choosing a
// setting from the fit is package analysis's.
package fit
