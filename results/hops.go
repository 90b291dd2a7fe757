package results

import (
	"fmt"

	"github.com/proxysizer/proxysizer/model"
)

// configuredPerInbound is the requests through the proxy per inbound
// request the sweep's fan-out makes: the step's own record, or for a local
// sweep recorded before steps carried it, 1 + k from its options. 0 on a
// cluster, where the app's calls are what is measured.
func (s *Sweep) configuredPerInbound(st Step) float64 {
	switch {
	case st.ConfiguredRequestsPerInbound > 0:
		return st.ConfiguredRequestsPerInbound
	case s.Backend == "local":
		return 1 + float64(s.Options.OutboundPerRequest)
	}
	return 0
}

// JudgeHops is the hops check of a finished step: the proxy's own count of
// requests per inbound request against the configured 1 + k + a. It says
// why when the count is more than 2% off, and whether that makes the step
// invalid (more than 10%). A step without a configured figure, or without
// counted requests, is not judged.
func JudgeHops(measured, configured float64) (why string, invalid bool) {
	if configured <= 0 || measured <= 0 {
		return "", false
	}
	h := model.CheckHops(measured, configured)
	if !h.Warn() {
		return "", false
	}
	why = fmt.Sprintf("the proxy counted %.3f requests per inbound request against the configured %g (1 inbound + %g outbound): %.1f%% off",
		h.Measured, h.Configured, h.Configured-1, 100*h.Deviation)
	if h.Invalid() {
		return why + fmt.Sprintf(", more than %.0f%%: the step measured another fan-out", 100*model.HopsInvalidDeviation), true
	}
	return why + fmt.Sprintf(", more than %.0f%%", 100*model.HopsWarnDeviation), false
}

// WithHopsJudged is a copy of s in which every finished step has passed the
// hops check: a valid step more than 10% off is made invalid with the
// reason, one more than 2% off carries the warning. Steps recorded before
// the sweep judged them are judged the same way as new ones; judging twice
// changes nothing.
func (s *Sweep) WithHopsJudged() *Sweep {
	c := *s
	c.Steps = judgeSteps(s, s.Steps)
	c.Searches = append([]Search(nil), s.Searches...)
	for i := range c.Searches {
		c.Searches[i].Steps = judgeSteps(s, s.Searches[i].Steps)
	}
	return &c
}

func judgeSteps(s *Sweep, steps []Step) []Step {
	out := append([]Step(nil), steps...)
	for i := range out {
		st := &out[i]
		if st.Status != StatusOK {
			continue
		}
		why, invalid := JudgeHops(st.ProxyRequestsPerInbound, s.configuredPerInbound(*st))
		switch {
		case invalid:
			st.Status, st.Reason = StatusInvalid, why
		case why != "" && !contains(st.Warnings, why):
			st.Warnings = append(append([]string(nil), st.Warnings...), why)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// HopsWarnings sum the hops check up over the finished steps: how many were
// more than 2% off (and by how much at most), and how many the check made
// invalid.
func (s *Sweep) HopsWarnings() []string {
	var off, invalid int
	worst, configured := 0.0, 0.0
	check := func(st Step) {
		if !st.Done() || st.Status == StatusFailed {
			return
		}
		c := s.configuredPerInbound(st)
		why, bad := JudgeHops(st.ProxyRequestsPerInbound, c)
		if why == "" {
			return
		}
		off++
		if bad {
			invalid++
		}
		if d := model.CheckHops(st.ProxyRequestsPerInbound, c).Deviation; d > worst {
			worst, configured = d, c
		}
	}
	for _, st := range s.Steps {
		check(st)
	}
	for _, sr := range s.Searches {
		for _, st := range sr.Steps {
			check(st)
		}
	}
	if off == 0 {
		return nil
	}
	w := fmt.Sprintf("hops check: %d step(s) counted requests per inbound request more than %.0f%% off the configured %g (up to %.1f%%): the fan-out the sizing assumes is not quite what the proxy carried",
		off, 100*model.HopsWarnDeviation, configured, 100*worst)
	if invalid > 0 {
		w += fmt.Sprintf("; %d of them more than %.0f%% off are invalid and not fitted", invalid, 100*model.HopsInvalidDeviation)
	}
	return []string{w}
}
