// Package testenv lets tests demand the real components they use. A test that
// needs haproxy, nginx, Prometheus or Chromium fails when it is missing: the
// integration tier (build tag `integration`) is only run where `make deps` or
// .ci/run installed them, so a missing component is a setup error, not a skip.
package testenv

import (
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
