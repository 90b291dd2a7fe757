package sizing

import (
	"fmt"
	"math"
	"reflect"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
)

// The most a plan may recommend. The inputs' ranges keep a plan with a
// reference profile far below these; a profile's figures multiply them,
// so Recommend checks what it computed rather than trusting the product.
const (
	// MaxMemoryBytes is 16 TiB, beyond any machine a sidecar runs on.
	MaxMemoryBytes = 1 << 44
	// MaxTargetPercent bounds an HPA target: utilisation can pass 100%
	// (usage above the requests), never by this much.
	MaxTargetPercent = 10000
)

// checkConcurrency refuses a load that needs more workers than one proxy
// runs, before any figure is computed from that count.
func (p *Plan) checkConcurrency(in Input) error {
	if p.Concurrency <= MaxConcurrency {
		return nil
	}
	return in.Names.Errorf(in.loadField(), "the peak %.4g sidecar RPS per pod needs %d workers at %.4g RPS per worker, above the %d one proxy runs: spread the load over more replicas",
		p.PeakSidecarRPS, p.Concurrency, p.WorkerCapacityRPS, MaxConcurrency)
}

// checkOutputs refuses a plan whose figures are out of range: a request no
// node could grant, or a number that is not finite (which JSON cannot
// even encode).
func (p *Plan) checkOutputs(in Input) error {
	s := p.Sidecar
	switch {
	case s.CPURequestMillicores > quantity.MaxMillicores || !(s.PeakCPUMillicores <= quantity.MaxMillicores):
		return in.Names.Errorf(in.loadField(), "the peak %.4g sidecar RPS per pod needs %.4g cores, above the %d a CPU quantity may hold: spread the load over more replicas",
			p.PeakSidecarRPS, s.PeakCPUMillicores/1000, quantity.MaxMillicores/1000)
	case !(s.Memory.Total*(1+in.Headroom)*in.MemoryLimitRatio <= MaxMemoryBytes):
		return in.Names.Errorf(FieldClusters, "%d clusters, %d endpoints and %d worker(s) need %.4g bytes of memory with headroom and limit, above the %s a machine holds",
			in.Config.Clusters, in.Config.Endpoints, p.Concurrency, s.Memory.Total*(1+in.Headroom)*in.MemoryLimitRatio, quantity.Bytes(MaxMemoryBytes))
	}
	if h := p.HPA; h != nil && !(h.UsageAwareTargetPercent <= MaxTargetPercent) {
		return in.Names.Errorf(FieldAppCPUPerKRPS, "the sidecar's CPU at the app's target makes a %.4g%% target, above %d%%: the app's cost per 1000 RPS is too small for its request", h.UsageAwareTargetPercent, MaxTargetPercent)
	}
	if path := nonFinite(reflect.ValueOf(*p), "plan"); path != "" {
		return fmt.Errorf("the plan's %s is not a finite number: an input or the profile is out of range", path)
	}
	return nil
}

// loadField is the input the load was given by.
func (in Input) loadField() input.Field {
	if in.Replicas > 0 {
		return FieldTotalRPS
	}
	return FieldRPSPerPod
}

// nonFinite is the path of a NaN or infinite number in v, "" if none.
func nonFinite(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				if p := nonFinite(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := nonFinite(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nonFinite(v.Elem(), path)
		}
	case reflect.Float32, reflect.Float64:
		if math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0) {
			return path
		}
	}
	return ""
}
