package analysis

import (
	"errors"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/sizing"
)

func TestRequestOptionsNameTheBadField(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*Request)
		field input.Field
		want  string
	}{
		{"target given as 0", func(r *Request) { r.TargetInboundRPS, r.Given = 0, map[input.Field]bool{FieldTargetRPS: true} }, FieldTargetRPS,
			"target inbound RPS: expected inbound RPS per pod > 0 and at most 1e+06, got 0"},
		{"headroom", func(r *Request) { r.Headroom = 11 }, sizing.FieldHeadroom, "headroom: expected a fraction between 0 and 10, got 11"},
		{"objective", func(r *Request) { r.SLOP99 = -time.Second }, FieldSLOP99, "p99 objective: expected a positive duration of at most 1h0m0s, got -1s"},
		{"clusters alone", func(r *Request) { r.Clusters = 3 }, sizing.FieldClusters, "clusters: give clusters and endpoints together (count them with the inventory)"},
		{"endpoints given as 0", func(r *Request) { r.Given = map[input.Field]bool{sizing.FieldEndpoints: true} }, sizing.FieldEndpoints, "endpoints: expected a count > 0, got 0"},
	} {
		r := DefaultRequest()
		tt.edit(&r)
		_, err := r.Options("out/x")
		var bad *input.Error
		if !errors.As(err, &bad) || bad.Field != tt.field || err.Error() != tt.want {
			t.Errorf("%s: got %v, want an *input.Error on %q: %q", tt.name, err, tt.field, tt.want)
		}
	}
}

func TestRequestOptionsCarryTheRequest(t *testing.T) {
	r := DefaultRequest()
	r.TargetInboundRPS, r.SLOP99, r.Clusters, r.Endpoints, r.AllowConcurrencyAboveLimit = 600, 10*time.Millisecond, 30, 400, true
	r.Names = input.Names{FieldTargetRPS: "--target-rps"}
	o, err := r.Options("out/x")
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != "out/x" || o.TargetInboundRPS != 600 || o.Headroom != sizing.DefaultHeadroom || o.SLOP99 != 10*time.Millisecond ||
		!o.AllowConcurrencyAboveLimit || o.Config.Clusters != 30 || o.Config.Endpoints != 400 || o.Names[FieldTargetRPS] != "--target-rps" {
		t.Errorf("options %+v do not carry the request", o)
	}
}
