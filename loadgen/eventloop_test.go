//go:build linux

package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// replies serves the response shapes the event loop must read as fortio's
// client does, chosen by path.
func replies() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/length", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5")
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, _ *http.Request) {
		for i := range 3 { // flushed parts make net/http send chunks
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "bye")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		body := strings.Repeat("x", 300<<10)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "no healthy upstream")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(300 * time.Millisecond)
	})
	return mux
}

// TestEventLoopReadsRepliesAsFortioDoes runs the same load on the event
// loop and on fortio's fast client against each reply shape: calls, status
// codes, errors, sockets and reply sizes must be the same.
func TestEventLoopReadsRepliesAsFortioDoes(t *testing.T) {
	base := startServer(t, replies())
	for _, tc := range []struct {
		path       string
		code       int
		failures   bool
		newSockets bool // a new connection for every call
	}{
		{"length", 200, false, false},
		{"chunked", 200, false, false},
		{"close", 200, false, true},
		{"unavailable", 503, true, true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			o := Options{URL: base + tc.path, QPS: 100, Connections: 2, Duration: 500 * time.Millisecond}
			loop := runWith(t, o, false)
			fortio := runWith(t, o, true)
			for name, res := range map[string]*Result{"event loop": loop, "fortio": fortio} {
				s, h := res.Summary, res.HTTP
				if s.Requests != 50 || h.RetCodes[tc.code] != 50 || len(h.RetCodes) != 1 {
					t.Errorf("%s: %d calls, codes %v; want 50 of %d", name, s.Requests, h.RetCodes, tc.code)
				}
				if failed := s.Errors == s.Requests; failed != tc.failures || (!tc.failures && s.Errors != 0) {
					t.Errorf("%s: %d of %d calls failed", name, s.Errors, s.Requests)
				}
				// Two sockets for the two connections, or one more per call.
				if want := map[bool]int64{false: 2, true: 2 + 50}[tc.newSockets]; h.SocketCount != want {
					t.Errorf("%s: %d sockets, want %d", name, h.SocketCount, want)
				}
			}
			if l, f := loop.HTTP.Sizes, fortio.HTTP.Sizes; l.Count != f.Count || l.Avg != f.Avg {
				t.Errorf("reply sizes: event loop %d calls averaging %.0f bytes, fortio %d averaging %.0f", l.Count, l.Avg, f.Count, f.Avg)
			}
			if l, f := loop.HTTP.HeaderSizes.Avg, fortio.HTTP.HeaderSizes.Avg; l != f {
				t.Errorf("header sizes: event loop %.1f, fortio %.1f", l, f)
			}
		})
	}
}

// TestEventLoopSendsFortiosRequest: headers, the Host override and a
// payload reach the target as fortio's client sends them.
func TestEventLoopSendsFortiosRequest(t *testing.T) {
	url := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Host != "shop.example" || r.Header.Get("X-Test") != "yes" ||
			!strings.HasPrefix(r.UserAgent(), "fortio.org/fortio-") || string(body) != string(payload(100)) {
			http.Error(w, fmt.Sprintf("%s %s %q %q %d bytes", r.Method, r.Host, r.Header.Get("X-Test"), r.UserAgent(), len(body)), http.StatusBadRequest)
		}
	}))
	res := runWith(t, Options{URL: url, QPS: 100, Connections: 2, Duration: 200 * time.Millisecond, PayloadSize: 100,
		Headers: []string{"Host: shop.example", "X-Test: yes"}}, false)
	if res.HTTP.RetCodes[200] != 20 {
		t.Errorf("codes %v: the target did not get fortio's request", res.HTTP.RetCodes)
	}
}

// TestEventLoopReadsLargeReplies: 300 KiB bodies, more than fortio's fast
// client buffers (128 KiB: it then fails every other call on leftover
// bytes), are read whole.
func TestEventLoopReadsLargeReplies(t *testing.T) {
	res := runWith(t, Options{URL: startServer(t, replies()) + "big", QPS: 100, Connections: 2, Duration: 500 * time.Millisecond}, false)
	s, h := res.Summary, res.HTTP
	if s.Requests != 50 || s.Errors != 0 || h.RetCodes[200] != 50 || h.SocketCount != 2 || h.Sizes.Min < 300<<10 || h.Sizes.Max > 300<<10+200 {
		t.Errorf("%d calls, %d errors, codes %v, %d sockets, sizes %.0f-%.0f bytes", s.Requests, s.Errors, h.RetCodes, h.SocketCount, h.Sizes.Min, h.Sizes.Max)
	}
}

func runWith(t *testing.T, o Options, fortioClient bool) *Result {
	t.Helper()
	fortioClientForHTTP1 = fortioClient
	defer func() { fortioClientForHTTP1 = false }()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if engine := res.HTTP.AccessLoggerInfo; strings.Contains(engine, "event loops") == fortioClient {
		t.Fatalf("fortio client %v, but the run says %q", fortioClient, engine)
	}
	return res
}

// TestEventLoopTimesOutAndReconnects: calls past the request timeout fail
// as fortio's socket error (-1) and the connection is opened again; idle
// connections the server closed are reopened without a failed call.
func TestEventLoopTimesOutAndReconnects(t *testing.T) {
	base := startServer(t, replies())
	res, err := Run(context.Background(), Options{URL: base + "slow", QPS: 10, Connections: 2,
		Duration: time.Second, RequestTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The timeout ends them (checked every 10ms), not the reply at 300ms.
	if s := res.Summary; s.Requests != 10 || s.Errors != 10 || res.HTTP.RetCodes[-1] != 10 || s.LatencyMs.P50 < 100 ||
		s.LatencyMs.P50 > 150 || s.LatencyMs.Max > 290 {
		t.Errorf("timeouts: %d calls, %d errors, codes %v, p50 %.1fms max %.1fms; want 10 socket errors at ~100ms",
			s.Requests, s.Errors, res.HTTP.RetCodes, s.LatencyMs.P50, s.LatencyMs.Max)
	}

	srv := &http.Server{Handler: replies(), IdleTimeout: 30 * time.Millisecond}
	idle := startHTTPServer(t, srv)
	res, err = Run(context.Background(), Options{URL: idle + "length", QPS: 10, Connections: 1, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// 100ms between calls: the server closes each idle connection first.
	if s := res.Summary; s.Requests != 10 || s.Errors != 0 || res.HTTP.SocketCount < 9 {
		t.Errorf("idle closes: %d calls, %d errors, %d sockets; want 10 calls, no error, a socket each", s.Requests, s.Errors, res.HTTP.SocketCount)
	}
}

// TestFixedRateLoopsRunAtRealtimePriority: as root (the test machine's
// user) a fixed-rate HTTP/1.1 run's loop runs at real-time priority and
// says so; with NoRealtime, or at max rate, it does not; and no thread of
// the process is left at real-time priority afterwards.
func TestFixedRateLoopsRunAtRealtimePriority(t *testing.T) {
	url := startServer(t, replies()) + "length"
	for _, tc := range []struct {
		name string
		o    Options
		want bool
	}{
		{"fixed rate", Options{URL: url, QPS: 200, Connections: 2, Duration: 200 * time.Millisecond}, true},
		{"no realtime", Options{URL: url, QPS: 200, Connections: 2, Duration: 200 * time.Millisecond, NoRealtime: true}, false},
		{"max rate", Options{URL: url, QPS: MaxRate, Connections: 2, Duration: 200 * time.Millisecond}, false},
	} {
		res, err := Run(context.Background(), tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.GeneratorRealtime != tc.want {
			t.Errorf("%s: generator_realtime %v, want %v", tc.name, res.Summary.GeneratorRealtime, tc.want)
		}
	}
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads listed: %v", err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(task))
		attr, err := unix.SchedGetAttr(tid, 0)
		if err == nil && attr.Policy != unix.SCHED_NORMAL {
			t.Errorf("thread %d left with scheduling policy %d, priority %d", tid, attr.Policy, attr.Priority)
		}
	}
}
