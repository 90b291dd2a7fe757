package promtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Promtool is the Debian package's promtool.
const Promtool = "/usr/bin/promtool"

func binary(path, name string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed: apt-get install prometheus, or run scripts/install-deps.sh", name)
}

// Backfill turns OpenMetrics files into TSDB blocks in dir with
// `promtool tsdb create-blocks-from openmetrics`, one file at a time.
func Backfill(dir string, files ...string) error {
	bin, err := binary(Promtool, "promtool")
	if err != nil {
		return err
	}
	for _, f := range files {
		out, err := exec.Command(bin, "tsdb", "create-blocks-from", "openmetrics", "--quiet", f, dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("promtool create-blocks-from openmetrics %s: %v: %s", f, err, out)
		}
	}
	return nil
}

// Server is a prometheus process serving a TSDB directory.
type Server struct {
	URL    string
	cmd    *exec.Cmd
	log    *lockedBuffer
	exited chan struct{}
}

// Serve starts prometheus on an existing TSDB directory (backfilled
// blocks), scraping nothing, with a retention that keeps any history, on a
// free loopback port, and waits until it is ready (timeout at most). Its
// compaction is held to the blocks' own 2-hour range, so that a measurement
// is not shared with a background compaction.
func Serve(tsdb string, timeout time.Duration) (*Server, error) {
	bin, err := binary(Binary, "prometheus")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(tsdb, "..", filepath.Base(tsdb)+"-prometheus.yml")
	if err := os.WriteFile(conf, []byte("global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs:\n- job_name: kubernetes-cadvisor\n  scrape_interval: 1m\n  static_configs: []\n"), 0o644); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{URL: "http://" + addr, log: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+tsdb, "--storage.tsdb.retention.time=100y",
		"--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h",
		"--web.listen-address="+addr, "--log.level=warn", "--query.max-samples=200000000", "--query.timeout=5m")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting prometheus: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("prometheus exited at start-up: %s", s.log.String())
		case <-ctx.Done():
			s.Stop()
			return nil, errors.Join(fmt.Errorf("prometheus not ready within %s", timeout), err, errors.New(s.log.String()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop kills the process group and waits for it.
func (s *Server) Stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// Log is what prometheus printed (the first 64 KiB).
func (s *Server) Log() string { return s.log.String() }

// StartOnBlocks backfills the OpenMetrics files into a temporary TSDB and
// starts prometheus on it, for one test; a missing binary fails the test.
func StartOnBlocks(t testing.TB, files ...string) *Server {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tsdb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Backfill(dir, files...); err != nil {
		t.Fatal(err)
	}
	s, err := Serve(dir, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}
