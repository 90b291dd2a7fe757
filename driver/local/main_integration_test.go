//go:build integration

package local

import (
	"os"
	"testing"
)

// TestMain lets this test binary serve as the lab app's child process.
func TestMain(m *testing.M) {
	RunLabAppIfChild()
	os.Exit(m.Run())
}
