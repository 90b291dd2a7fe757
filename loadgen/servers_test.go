package loadgen

import (
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/"
}
