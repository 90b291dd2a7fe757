//go:build integration

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// proxysizer builds the binary once per test run.
func proxysizer(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "proxysizer-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "proxysizer")
		out, err := exec.Command("go", "build", "-o", binary, "../..").CombinedOutput()
		if err != nil {
			buildErr = err
			binary = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, binary)
	}
	return binary
}

// run runs the binary to completion.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, "", args...)
}

// runIn runs the binary to completion in the working directory dir.
func runIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(proxysizer(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// someoneElses says whether a proxysizer cgroup (proxysizer-PID-...)
// belongs to a live process that is not this test's binary: another
// sweep on the machine, which this test must leave alone and not count.
func someoneElses(t *testing.T, cgroup string) bool {
	rest := strings.TrimPrefix(filepath.Base(cgroup), "proxysizer-")
	pid, _, _ := strings.Cut(rest, "-")
	exe, err := os.Readlink(filepath.Join("/proc", pid, "exe"))
	return err == nil && exe != proxysizer(t)
}

// leftovers lists proxysizer cgroups and processes that belong to a sweep
// writing to dir: a proxy whose command line names dir, or the lab app
// (a copy of the binary).
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	for _, ctrl := range []string{"cpu", "cpuacct", "cpuset", "memory"} {
		matches, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", ctrl, "proxysizer-*"))
		nested, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", ctrl, "*", "*", "proxysizer-*"))
		for _, m := range append(matches, nested...) {
			if !someoneElses(t, m) {
				found = append(found, m)
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cmdline := strings.ReplaceAll(string(data), "\x00", " ")
		exe, _ := os.Readlink(filepath.Join(filepath.Dir(p), "exe"))
		if strings.Contains(cmdline, dir) || exe == proxysizer(t) {
			found = append(found, p+": "+cmdline)
		}
	}
	return found
}
