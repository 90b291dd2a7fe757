package sweep

import (
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// TestArrivalIsRecorded: a sweep sizes under Poisson arrivals unless told
// otherwise and records the process, on either backend (both generate load
// with proxysizer's engine); a resume keeps the recorded process, and a
// given one must agree.
func TestArrivalIsRecorded(t *testing.T) {
	options := func(edit func(*Request)) (Options, error) {
		r := DefaultRequest()
		r.OutDir, r.Given = t.TempDir(), map[input.Field]bool{}
		edit(&r)
		return r.Options(time.Now())
	}
	for _, tc := range []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"default", func(*Request) {}, "poisson"},
		{"burst", func(r *Request) { r.Arrival, r.Given[FieldArrival] = "burst:8", true }, "burst:8"},
		{"kubernetes default", func(r *Request) { r.Backend = "kubernetes" }, "poisson"},
		{"kubernetes burst", func(r *Request) { r.Backend, r.Arrival, r.Given[FieldArrival] = "kubernetes", "burst:4", true }, "burst:4"},
	} {
		o, err := options(tc.edit)
		if err != nil || o.record().Arrival != tc.want || o.Load.Options("http://x/").Arrival.String() != tc.want {
			t.Errorf("%s: recorded %q (%v), want %q", tc.name, o.record().Arrival, err, tc.want)
		}
	}
	for _, tc := range []struct {
		edit func(*Request)
		want string
	}{
		{func(r *Request) { r.Arrival, r.Given[FieldArrival] = "zigzag", true }, `arrival process: expected uniform, poisson or burst:N, got "zigzag"`},
	} {
		if _, err := options(tc.edit); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}

	dir := t.TempDir()
	first, err := options(func(r *Request) { r.OutDir, r.Arrival, r.Given[FieldArrival] = dir, "burst:4", true })
	if err != nil {
		t.Fatal(err)
	}
	if err := results.Save(dir, &results.Sweep{SchemaVersion: results.SchemaVersion, Backend: "local", Options: first.record(), Status: results.SweepInterrupted}); err != nil {
		t.Fatal(err)
	}
	again := DefaultRequest()
	again.Resume, again.OutDir = true, dir
	if o, err := again.Options(time.Now()); err != nil || o.Load.Arrival != (loadgen.Arrival{Kind: loadgen.Burst, Burst: 4}) {
		t.Errorf("resumed with arrival %v (%v), want the recorded burst:4", o.Load.Arrival, err)
	}
	again.Arrival, again.Given = "poisson", map[input.Field]bool{FieldArrival: true}
	if _, err := again.Options(time.Now()); err == nil || !strings.Contains(err.Error(), "was swept with arrival process burst:4") {
		t.Errorf("resume with another arrival process: %v, want it refused", err)
	}
}
