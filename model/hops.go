package model

import "math"

// Tolerances of the hops check: a sweep assumes the proxy carries 1 + k + a
// requests per inbound call; its own counters say what it carried.
const (
	// HopsWarnDeviation is the relative deviation from which a step is
	// flagged: the fan-out is not quite what the sizing assumes.
	HopsWarnDeviation = 0.02
	// HopsInvalidDeviation is the relative deviation from which a step is
	// invalid: its sidecar RPS and its cost per request describe another
	// fan-out (retries, errors answered by the proxy, a miscounted
	// listener).
	HopsInvalidDeviation = 0.10
)

// HopsCheck compares the requests through the proxy per inbound request
// that its counters measured with the configured 1 + k + a.
type HopsCheck struct {
	Configured float64 `json:"configured"`
	Measured   float64 `json:"measured"`
	// Deviation is |measured - configured| / configured.
	Deviation float64 `json:"deviation"`
}

// CheckHops compares measured with configured requests per inbound request.
func CheckHops(measured, configured float64) HopsCheck {
	h := HopsCheck{Configured: configured, Measured: measured}
	if configured > 0 {
		h.Deviation = math.Abs(measured-configured) / configured
	}
	return h
}

// Warn reports a deviation worth a warning (more than 2%).
func (h HopsCheck) Warn() bool { return h.Deviation > HopsWarnDeviation }

// Invalid reports a deviation that makes the step invalid (more than 10%).
func (h HopsCheck) Invalid() bool { return h.Deviation > HopsInvalidDeviation }
