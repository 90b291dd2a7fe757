package analysis

import (
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/sizing"
	"github.com/proxysizer/proxysizer/sweep"
)

// The inputs of a Request, as its problems name them; the headroom and
// the configuration size are the plan's (sizing's fields).
const (
	FieldTargetRPS                  input.Field = "target inbound RPS"
	FieldSLOP99                     input.Field = "p99 objective"
	FieldAllowConcurrencyAboveLimit input.Field = "settings with more workers than their CPU limit"
	// FieldInventory is not an input but what counts the configuration
	// size.
	FieldInventory input.Field = "the inventory"
)

// Request is an analysis as a person asks for it; Options checks it.
type Request struct {
	// TargetInboundRPS, Headroom, SLOP99, AllowConcurrencyAboveLimit: as
	// in Options.
	TargetInboundRPS           float64
	Headroom                   float64
	SLOP99                     time.Duration
	AllowConcurrencyAboveLimit bool
	// Clusters and Endpoints are the configuration size, both or neither.
	Clusters, Endpoints int
	// Given says which inputs the person set; Names shows them in the
	// caller's words, in the problems and the choice's plan.
	Given map[input.Field]bool
	Names input.Names
}

// DefaultRequest is a request's defaults: sizing's headroom, the target
// and the objective from the sweep.
func DefaultRequest() Request { return Request{Headroom: sizing.DefaultHeadroom} }

// Options checks r into the options of an analysis of the sweep in source;
// a problem is an *input.Error naming the field.
func (r Request) Options(source string) (Options, error) {
	n := r.Names
	if r.Given[FieldTargetRPS] && (!model.Positive(r.TargetInboundRPS) || r.TargetInboundRPS > sizing.MaxRPSPerPod) {
		return Options{}, n.Errorf(FieldTargetRPS, "expected inbound RPS per pod > 0 and at most %g, got %v", float64(sizing.MaxRPSPerPod), r.TargetInboundRPS)
	}
	if !model.NonNegative(r.Headroom) || r.Headroom > sizing.MaxHeadroom {
		return Options{}, n.Errorf(sizing.FieldHeadroom, "expected a fraction between 0 and %d, got %v", sizing.MaxHeadroom, r.Headroom)
	}
	if r.SLOP99 < 0 || r.SLOP99 > sweep.MaxSLOP99 {
		return Options{}, n.Errorf(FieldSLOP99, "expected a positive duration of at most %v, got %v", sweep.MaxSLOP99, r.SLOP99)
	}
	for field, count := range map[input.Field]int{sizing.FieldClusters: r.Clusters, sizing.FieldEndpoints: r.Endpoints} {
		if count < 0 || r.Given[field] && count == 0 {
			return Options{}, n.Errorf(field, "expected a count > 0, got %d", count)
		}
	}
	if (r.Clusters > 0) != (r.Endpoints > 0) {
		return Options{}, n.Errorf(sizing.FieldClusters, "give %s and %s together (count them with %s)", sizing.FieldClusters, sizing.FieldEndpoints, FieldInventory)
	}
	return Options{Source: source, TargetInboundRPS: r.TargetInboundRPS, Headroom: r.Headroom, SLOP99: r.SLOP99, Names: n,
		AllowConcurrencyAboveLimit: r.AllowConcurrencyAboveLimit, Config: model.Config{Clusters: r.Clusters, Endpoints: r.Endpoints}}, nil
}
