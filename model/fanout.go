package model

import "fmt"

// Fanout describes the requests one inbound call causes through the pod's
// sidecar, following the seed's questions: how many requests per call, is there
// an authn/z call on each request, are requests retried.
//
// Every request the app sends leaves through its own sidecar, so for each
// inbound call the sidecar carries: the inbound request itself, the app's
// outbound calls, the auth calls, and the retries of those outbound requests.
// Retries are issued by the client-side sidecar (Istio's default policy retries
// twice), so they amplify only this pod's outbound requests; retries of this
// pod's inbound requests are issued by the callers and already counted in the
// inbound rate measured at library level.
type Fanout struct {
	// Outbound is the number of calls the app makes per inbound request (k).
	Outbound float64
	// Authz is the number of extra authn/z calls per inbound request (a).
	Authz float64
	// RetryRatio is the share of outbound requests retried once (r, 0..1).
	RetryRatio float64
}

// FanoutFromRequestsPerCall builds the fan-out of "a service with N requests":
// N requests through the sidecar per inbound call, so N-1 outbound calls.
func FanoutFromRequestsPerCall(n float64) Fanout { return Fanout{Outbound: n - 1} }

// Validate reports the first value out of range.
func (f Fanout) Validate() error {
	switch {
	case !NonNegative(f.Outbound):
		return fmt.Errorf("outbound calls per request must be a finite number >= 0, got %v", f.Outbound)
	case !NonNegative(f.Authz):
		return fmt.Errorf("authz calls per request must be a finite number >= 0, got %v", f.Authz)
	case !NonNegative(f.RetryRatio) || f.RetryRatio > 1:
		return fmt.Errorf("retry ratio must be between 0 and 1, got %v", f.RetryRatio)
	}
	return nil
}

// HopBreakdown is the per-inbound-call decomposition of sidecar requests.
type HopBreakdown struct {
	Inbound  float64 `json:"inbound"`
	Outbound float64 `json:"outbound"`
	Authz    float64 `json:"authz"`
	Retries  float64 `json:"retries"`
	// Total is the requests through the sidecar per inbound call.
	Total float64 `json:"total"`
}

// Breakdown decomposes the sidecar's requests per inbound call:
// 1 + k + a + r*(k + a).
func (f Fanout) Breakdown() HopBreakdown {
	retries := f.RetryRatio * (f.Outbound + f.Authz)
	return HopBreakdown{
		Inbound:  1,
		Outbound: f.Outbound,
		Authz:    f.Authz,
		Retries:  retries,
		Total:    1 + f.Outbound + f.Authz + retries,
	}
}

// RequestsPerInbound is the requests through the sidecar per inbound call.
func (f Fanout) RequestsPerInbound() float64 { return f.Breakdown().Total }

// SidecarRPS is the rate through one pod's sidecar at the given inbound rate.
func (f Fanout) SidecarRPS(inboundRPS float64) float64 {
	return inboundRPS * f.RequestsPerInbound()
}

// PerPod spreads a total inbound rate over replicas.
func PerPod(totalRPS float64, replicas int) float64 {
	if replicas <= 0 {
		return 0
	}
	return totalRPS / float64(replicas)
}
