package loadgen

import (
	"errors"
	"testing"

	"github.com/proxysizer/proxysizer/internal/input"
)

// TestRequestSpeaksDomainWords: without Names a Request's problems name
// the library's fields; with them, the caller's.
func TestRequestSpeaksDomainWords(t *testing.T) {
	for _, tc := range []struct {
		edit  func(*Request)
		names input.Names
		want  string
	}{
		{func(r *Request) { r.FindMax, r.MaxSteps = true, 0 }, nil, "step budget: expected a positive value, got 0 (0 is not the default)"},
		{func(r *Request) { r.FindMax, r.MaxSteps = true, 1001 }, nil, "step budget: expected 1..1000, got 1001"},
		{func(r *Request) { r.Connections = "10001" }, nil, "connections: expected 1..10000, got 10001"},
		{func(r *Request) { r.PayloadSize = 1 << 30 }, input.Names{FieldPayloadSize: "--payload-size"}, "--payload-size: expected 0..16777216 bytes (16 MiB), got 1073741824"},
		{func(r *Request) { r.Given = map[Field]bool{FieldMaxSteps: true} }, input.Names{FieldMaxSteps: "--max-steps", FieldFindMax: "--find-max"}, "--max-steps: applies only with --find-max"},
		{func(r *Request) { r.QPS = "1e300" }, nil, `rate: expected a positive rate or max, got "1e300"`},
	} {
		r := DefaultRequest()
		r.URL, r.Names = "http://127.0.0.1:1/", tc.names
		tc.edit(&r)
		_, err := r.Job()
		var bad *input.Error
		if !errors.As(err, &bad) || err.Error() != tc.want {
			t.Errorf("got %v, want the *input.Error %q", err, tc.want)
		}
	}
	r := DefaultRequest()
	r.URL, r.Arrival, r.Connections = "http://127.0.0.1:1/", "burst:8", "12"
	job, err := r.Job()
	if err != nil || job.Options.Arrival != (Arrival{Kind: Burst, Burst: 8}) || job.Options.Connections != 12 || job.Options.QPS != 100 || job.Search != nil {
		t.Errorf("the defaults with burst:8 on 12 connections: %+v, %v", job.Options, err)
	}
}
