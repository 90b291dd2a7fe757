package loadgen

import (
	"context"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"fortio.org/fortio/fgrpc"
	"fortio.org/fortio/fhttp"
	"fortio.org/log"
)

func TestMain(m *testing.M) {
	// fortio logs every run at Info; the tests read results, not logs.
	log.SetLogLevelQuiet(log.Critical)
	os.Exit(m.Run())
}

var (
	echoOnce sync.Once
	echoURL  string
	grpcOnce sync.Once
	grpcURL  string
)

// fortioEcho starts fortio's own echo server (HTTP/1.1 and h2c) in process,
// once per test binary: fortio offers no way to stop it.
func fortioEcho(t testing.TB) string {
	t.Helper()
	echoOnce.Do(func() {
		_, addr := fhttp.ServeTCP("127.0.0.1:0", "")
		if addr != nil {
			echoURL = "http://" + addr.String() + "/"
		}
	})
	if echoURL == "" {
		t.Fatal("fortio echo server did not start")
	}
	return echoURL
}

// fortioPing starts fortio's gRPC ping server in process, once.
func fortioPing(t testing.TB) string {
	t.Helper()
	grpcOnce.Do(func() {
		addr := fgrpc.PingServer("127.0.0.1:0", "", 0, &fhttp.TLSOptions{})
		if addr != nil {
			grpcURL = "http://" + addr.String()
		}
	})
	if grpcURL == "" {
		t.Fatal("fortio ping server did not start")
	}
	return grpcURL
}

// startServer serves h on 127.0.0.1 with HTTP/1.1 and h2c, closed at cleanup.
func startServer(t testing.TB, h http.Handler) string {
	t.Helper()
	return startHTTPServer(t, &http.Server{Handler: h})
}

// startHTTPServer serves srv on 127.0.0.1 with HTTP/1.1 and h2c, closed at
// cleanup.
func startHTTPServer(t testing.TB, srv *http.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.ReadHeaderTimeout = 5 * time.Second
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/"
}

// unstarvedRun runs o. A run the machine starved (its threads waited for a
// CPU other processes held for over 5% of the run, which its summary
// reports) is made again, up to twice: on a shared test machine that is
// the environment's doing, not the engine's.
func unstarvedRun(t testing.TB, o Options) *Result {
	t.Helper()
	var res *Result
	for attempt := 1; attempt <= 3; attempt++ {
		var err error
		if res, err = Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if !starved(res.Summary) {
			break
		}
		t.Logf("attempt %d starved (%.2fs waiting for a CPU): %s", attempt, res.Summary.GeneratorCPUWaitSeconds, res.Summary.Line())
	}
	return res
}

// starved says whether other processes held up the run: it waited for a
// CPU for over 5% of the run, and calls late for the generator itself
// (not waiting for a connection) alone break the behind-schedule gate.
func starved(s Summary) bool {
	own := s.BehindRatio - s.BehindBusyRatio
	return s.GeneratorCPUWaitSeconds > 0.05*s.DurationSeconds && own > DefaultLimits.MaxBehindRatio
}
