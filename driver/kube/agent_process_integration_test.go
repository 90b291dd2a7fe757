//go:build integration

package kube

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/podproxystub"
	"github.com/proxysizer/proxysizer/loadgen"
)

// The load pods' agent as their image runs it: the binary built as the
// Dockerfile builds it (static, CGO_ENABLED=0, -trimpath), serving `load
// --serve` as the image's non-root user (65532) with no capabilities at
// all, as the load pod's security context leaves it. Driven through the
// pod proxy path, its run is measured in full, and the engine's report that
// it could not raise its event loops to real-time priority reaches the
// merged run as a warning.
func TestAgentProcessWithoutPrivileges(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is needed to drop the agent's privileges: %v", err)
	}
	dir := t.TempDir()
	binary := filepath.Join(dir, "proxysizer")
	build := exec.Command("go", "build", "-trimpath", "-o", binary, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	agent := exec.CommandContext(ctx, setpriv, "--reuid", "65532", "--regid", "65532", "--clear-groups",
		"--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", binary, "load", "--serve", "127.0.0.1:0")
	agent.Env = []string{"HOME=/nonexistent"}
	stderr, err := agent.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	logged := make(chan struct{})
	// The pipe is read to its end before Wait, as os/exec requires.
	defer func() { cancel(); <-logged; _ = agent.Wait() }()
	go func() {
		defer close(logged)
		listening := regexp.MustCompile(`listening on (\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
			t.Logf("agent: %s", sc.Text())
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("the agent did not say where it listens")
	}

	target := podproxystub.StartTarget()
	stub := &podproxystub.Stub{AgentAt: func(_, pod string) string { return base }}
	p := agentProxy(t, stub)
	o := loadgen.Options{URL: target.URL, QPS: 100, Duration: time.Second}
	parts, err := p.runGenerators(context.Background(), []string{"gen-a"}, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mergeGenerators(o, []string{"gen-a"}, parts)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Requests < 95 || s.Requests > 101 || s.IntendedLatencyMs == nil || res.Schedule == nil || s.GeneratorCPUCores <= 0 {
		t.Errorf("run: %s, schedule %+v", s.Line(), res.Schedule)
	}
	if s.GeneratorRealtime || !strings.Contains(strings.Join(s.Warnings, " "), "ran at normal priority: real-time priority needs CAP_SYS_NICE") {
		t.Errorf("without CAP_SYS_NICE: realtime %v, warnings %v", s.GeneratorRealtime, s.Warnings)
	}
}
