// Package testenv lets tests demand the real components they use, and runs
// headless Chromium for the pages' tests (Chromium). A test that
// needs haproxy, nginx, Prometheus or Chromium fails when it is missing: the
// integration tier (build tag `integration`) is only run where `make deps` or
// .ci/run installed them, so a missing component is a setup error, not a skip.
package testenv

import (
	"net"
	"os/exec"
	"testing"
)

// RequireBinary returns the path of name on PATH or fails the test with how to
// install it.
func RequireBinary(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found on PATH: %s (make deps installs it)", name, install)
	}
	return path
}

// ClosedPortURL returns an http URL on 127.0.0.1 where nothing listens: a
// port bound and released, for tests of an unreachable target.
func ClosedPortURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/"
}
