package prom

import (
	"context"
	"fmt"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// The kubelet's cAdvisor series the queries read.
const (
	SeriesCPU       = "container_cpu_usage_seconds_total"
	SeriesPeriods   = "container_cpu_cfs_periods_total"
	SeriesThrottled = "container_cpu_cfs_throttled_periods_total"
	SeriesMemory    = "container_memory_working_set_bytes"
)

// ContainerUsage is one container's figures over a window.
type ContainerUsage struct {
	// CPUSeconds is the CPU the container used over the window.
	CPUSeconds float64
	HasCPU     bool
	// Periods and ThrottledPeriods are its CFS periods over the window
	// (HasPeriods false without a CPU limit, or where cAdvisor does not
	// export them).
	Periods, ThrottledPeriods float64
	HasPeriods                bool
	// MaxWorkingSetBytes is its largest working set over the window.
	MaxWorkingSetBytes float64
	HasMemory          bool
}

// UsageQueries are the PromQL expressions ContainerUsage sends for a window
// of w: CPU seconds and CFS periods as increase() over the window, memory
// as its maximum, each aggregated By.
func UsageQueries(sel Selector, w time.Duration) map[string]string {
	s, win := sel.String(), model.Duration(w).String()
	return map[string]string{
		"cpu":       fmt.Sprintf("sum %s (increase(%s%s[%s]))", By, SeriesCPU, s, win),
		"periods":   fmt.Sprintf("sum %s (increase(%s%s[%s]))", By, SeriesPeriods, s, win),
		"throttled": fmt.Sprintf("sum %s (increase(%s%s[%s]))", By, SeriesThrottled, s, win),
		"memory":    fmt.Sprintf("max %s (max_over_time(%s%s[%s]))", By, SeriesMemory, s, win),
	}
}

// ContainerUsage reads, in four queries whatever the selector covers, every
// matching container's CPU, CFS periods and largest working set over the
// window w ending at at.
func (c *Client) ContainerUsage(ctx context.Context, sel Selector, w time.Duration, at time.Time) (map[Key]ContainerUsage, error) {
	out := map[Key]ContainerUsage{}
	for _, name := range []string{"cpu", "periods", "throttled", "memory"} {
		values, err := c.Instant(ctx, UsageQueries(sel, w)[name], at)
		if err != nil {
			return nil, err
		}
		for k, v := range values {
			u := out[k]
			switch name {
			case "cpu":
				u.CPUSeconds, u.HasCPU = v, true
			case "periods":
				u.Periods, u.HasPeriods = v, true
			case "throttled":
				u.ThrottledPeriods = v
			case "memory":
				u.MaxWorkingSetBytes, u.HasMemory = v, true
			}
			out[k] = u
		}
	}
	return out, nil
}

// CPURateQuery is the PromQL for each container's CPU in cores, as rate()
// over rateWindow.
func CPURateQuery(sel Selector, rateWindow time.Duration) string {
	return fmt.Sprintf("sum %s (rate(%s%s[%s]))", By, SeriesCPU, sel, model.Duration(rateWindow))
}

// CPURate is every matching container's CPU in cores at each step of r, in
// one range query (in parts beyond MaxRangePoints steps): the history an
// HPA saw.
func (c *Client) CPURate(ctx context.Context, sel Selector, r promv1.Range, rateWindow time.Duration) (map[Key][]Point, error) {
	return c.RangeInParts(ctx, CPURateQuery(sel, rateWindow), r)
}
