package capacity

import (
	"fmt"
	"math"
	"strings"

	"github.com/proxysizer/proxysizer/internal/quantity"
)

// risks finds what the workload's sidecar puts at risk now.
func risks(w *Workload, wr WorkloadReport) []Risk {
	id := wr.ID()
	var out []Risk
	add := func(kind, format string, args ...any) {
		out = append(out, Risk{Kind: kind, Workload: id, Detail: fmt.Sprintf(format, args...)})
	}
	c := wr.Current
	if th := c.ThrottledAtPeak; th != nil && *th >= ThrottledRiskRatio {
		add(RiskThrottled, "%.0f%% of the sidecar's CFS periods throttled at the peak (CPU limit %s, %s): every request through the pod waits out the rest of a 100 ms period; raise the limit or lower the concurrency",
			*th*100, cpuOrNone(c.CPULimitMillicores), concurrencyText(c))
	}
	if used := c.CPUAtPeakMillicores; used != nil && c.CPURequestMillicores > 0 && *used > float64(c.CPURequestMillicores) {
		hpa := "the scheduler under-reserves the pod"
		if w.HPA != nil && w.HPA.Metric == HPAResource {
			hpa = fmt.Sprintf("HPA %s's Resource metric divides the pod's usage by its requests, so the sidecar's excess raises the pod's utilisation and scales out before the app reaches its target; the scheduler under-reserves the pod", w.HPA.Name)
		}
		add(RiskUsageAboveRequest, "the sidecar uses %.0fm at the peak, above its %s request: %s",
			*used, quantity.Millicores(c.CPURequestMillicores), hpa)
	}
	if c.ConcurrencyKnown && c.Concurrency > 0 && c.CPULimitMillicores > 0 {
		ceiling := int(math.Ceil(float64(c.CPULimitMillicores) / 1000))
		if c.Concurrency > ceiling {
			add(RiskConcurrencyAbove, "concurrency %d (%s) above ceil(CPU limit %s) = %d: the workers share the quota and are throttled together in a burst",
				c.Concurrency, c.ConcurrencySource, quantity.Millicores(c.CPULimitMillicores), ceiling)
		}
	}
	if h := w.HPA; h != nil && h.Metric == HPAResource {
		for _, ct := range w.Containers {
			if !ct.HasRequest {
				add(RiskMissingCPURequest, "container %q has no CPU request: HPA %s's Resource metric fails with \"missing request for cpu\" and the HPA shows <unknown>", ct.Name, h.Name)
			}
		}
	}
	if n := len(w.Sidecar.ResourceAnnotations); n > 0 && n < 4 {
		add(RiskPartialAnnotations, "only %s of the four sidecar resource annotations set: Istio then gives the proxy only the annotated resources and drops the mesh defaults for the rest (istio/istio#35905)",
			strings.Join(w.Sidecar.ResourceAnnotations, ", "))
	}
	return out
}

func cpuOrNone(m int64) string {
	if m <= 0 {
		return "none"
	}
	return quantity.Millicores(m)
}

func concurrencyText(c Current) string {
	if !c.ConcurrencyKnown {
		return "concurrency " + c.ConcurrencySource
	}
	return fmt.Sprintf("concurrency %d", c.Concurrency)
}

func kindWord(kind string) string { return strings.ToLower(kind) }
