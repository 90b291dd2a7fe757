package loadgen

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestApplyValidity(t *testing.T) {
	base := func() Summary {
		return Summary{RequestedQPS: 1000, ActualQPS: 990, AchievedRatio: 0.99, Requests: 10000,
			GeneratorCPUCores: 0.5, GeneratorCPUCapacity: 2}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(*Summary)
		valid   bool
		reason  string
		warning string
	}{
		{"clean", func(*Summary) {}, true, "", ""},
		{"rate not held", func(s *Summary) { s.AchievedRatio = 0.96 }, false, "ratio 0.960 < 0.97", ""},
		{"max rate has no rate gate", func(s *Summary) { s.MaxRate, s.AchievedRatio, s.BehindRatio = true, 0, 0.9 }, true, "", ""},
		{"errors at the limit", func(s *Summary) { s.Errors, s.ErrorRatio = 100, 0.01 }, true, "", ""},
		{"errors past the limit", func(s *Summary) { s.Errors, s.ErrorRatio = 101, 0.0101 }, false, "error ratio 0.0101", ""},
		{"fell behind", func(s *Summary) { s.BehindRatio = 0.06 }, false, "behind schedule", ""},
		{"no calls", func(s *Summary) { s.Requests = 0 }, false, "no call completed", ""},
		{"generator saturated", func(s *Summary) { s.GeneratorCPUCores = 1.8 }, true, "", "near CPU saturation: 1.80 of 2 cores"},
	} {
		s := base()
		tc.mutate(&s)
		applyValidity(&s, Limits{})
		joined := strings.Join(s.InvalidReasons, "; ")
		if s.Valid != tc.valid || (tc.reason != "" && !strings.Contains(joined, tc.reason)) || (tc.valid && joined != "") {
			t.Errorf("%s: valid=%v reasons=%q", tc.name, s.Valid, joined)
		}
		warned := strings.Join(s.Warnings, "; ")
		if (tc.warning == "") != (warned == "") || !strings.Contains(warned, tc.warning) {
			t.Errorf("%s: warnings=%q, want %q", tc.name, warned, tc.warning)
		}
	}
}

func TestParseProcStatCPU(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	stat := "4242 (load gen) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 1000 10"
	got, err := parseProcStatCPU(stat)
	if err != nil || got != 3*time.Second {
		t.Fatalf("got %v, %v; want 3s from 250+50 ticks", got, err)
	}
	if _, err := parseProcStatCPU("garbage"); err == nil {
		t.Error("garbage parsed")
	}
	before, err := processCPUTime()
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(150 * time.Millisecond); time.Now().Before(end); {
	}
	after, _ := processCPUTime()
	if used := after - before; used < 50*time.Millisecond {
		t.Errorf("150ms of busy loop counted as %v of CPU", used)
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := Options{URL: "http://127.0.0.1:8080/", QPS: 100, Duration: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for _, tc := range []struct {
		field  Field
		mutate func(*Options)
	}{
		{FieldURL, func(o *Options) { o.URL = "" }},
		{FieldURL, func(o *Options) { o.URL = "ftp://x/" }},
		{FieldURL, func(o *Options) { o.URL = "http://" }},
		{FieldURL, func(o *Options) { o.URL = "http://[::1" }},
		{FieldProtocol, func(o *Options) { o.Protocol = "spdy" }},
		{FieldProtocol, func(o *Options) { o.Protocol, o.URL = H2C, "https://127.0.0.1/" }},
		{FieldQPS, func(o *Options) { o.QPS = -1 }},
		{FieldArrival, func(o *Options) { o.Arrival = Arrival{Kind: "zigzag"} }},
		{FieldArrival, func(o *Options) { o.Arrival = Arrival{Kind: Burst, Burst: 1} }},
		{FieldArrival, func(o *Options) { o.Arrival = Arrival{Kind: Poisson, Burst: 3} }},
		{FieldConnections, func(o *Options) { o.Connections = -2 }},
		{FieldConnections, func(o *Options) { o.Connections = MaxConnections + 1 }},
		{FieldDuration, func(o *Options) { o.Duration = -time.Second }},
		{FieldDuration, func(o *Options) { o.QPS, o.Duration = 1, time.Second }},
		{FieldWarmup, func(o *Options) { o.Warmup = -time.Second }},
		{FieldHeaders, func(o *Options) { o.Headers = []string{"no colon"} }},
		{FieldMaxErrorRatio, func(o *Options) { o.Limits.MaxErrorRatio = 2 }},
	} {
		o := ok
		tc.mutate(&o)
		var fe *FieldError
		if err := o.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: err %v, want a %s error", o, err, tc.field)
		}
	}
}

func TestProgressPrinter(t *testing.T) {
	var term, plain bytes.Buffer
	tp, pp := NewProgressPrinter(&term, true), NewProgressPrinter(&plain, false)
	pp.PlainEvery = time.Hour
	for i := 1; i <= 3; i++ {
		pr := Progress{Phase: PhaseMeasure, Elapsed: time.Duration(i) * time.Second, Duration: 10 * time.Second,
			Calls: int64(i * 100), RequestedQPS: 100}
		tp.Update(pr)
		pp.Update(pr)
	}
	tp.Done()
	if n := strings.Count(term.String(), "\r\033[K"); n != 4 || strings.Contains(term.String(), "\n") {
		t.Errorf("terminal output %q: want 3 refreshes and a clear, no newline", term.String())
	}
	if got := plain.String(); strings.Count(got, "\n") != 1 || strings.Contains(got, "\r") ||
		!strings.Contains(got, "100 calls  100.0 qps (requested 100)") {
		t.Errorf("plain output %q: want one throttled line", got)
	}
}
