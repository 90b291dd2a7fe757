package cmd

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/cluster"
)

// recordingServer stands for the API server and counts every request it
// gets: a refused command must send none.
func recordingServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &requests
}

// kubeconfigFor writes a kubeconfig for server (context "test").
func kubeconfigFor(t *testing.T, dir, server string) string {
	t.Helper()
	path := filepath.Join(dir, "kubeconfig")
	writeFiles(t, map[string]string{path: `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret-token}}]
contexts: [{name: test, context: {cluster: c, user: u, namespace: shop}}]
current-context: test
`})
	return path
}

// validJournal is what a sweep of shop/web writes before its first patch.
func validJournal() map[string]any {
	return map[string]any{
		"version": 1, "tool": "proxysizer", "namespace": "shop", "deployment": "web", "uid": "0b5e2b4a-6c1a-4d55-9c3f-2d0e7a8b9c10",
		"created_at":           time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"original_annotations": map[string]string{"sidecar.istio.io/proxyCPU": "100m", "prometheus.io/scrape": "true"},
		"managed_keys":         cluster.ManagedKeys, "steps": []any{}, "pid": 1,
	}
}

func writeJournal(t *testing.T, path string, j map[string]any) string {
	t.Helper()
	data, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, map[string]string{path: string(data)})
	return path
}

// Class: the restore journal. An edited journal could remove any
// annotation of any Deployment: restore checks it before touching the
// cluster (no request at all), and names the journal and what is wrong.
func TestHostileJournals(t *testing.T) {
	dir := t.TempDir()
	server, requests := recordingServer(t)
	kubeconfig := kubeconfigFor(t, dir, server)
	edited := func(name string, edit func(map[string]any)) string {
		j := validJournal()
		edit(j)
		return writeJournal(t, filepath.Join(dir, name+".json"), j)
	}
	garbage := filepath.Join(dir, "garbage.json")
	writeFiles(t, map[string]string{garbage: `{"version": 1, "tool": "proxysi`})
	tests := []struct{ name, journal, want string }{
		{"namespace climbing out", edited("ns-dots", func(j map[string]any) { j["namespace"] = "../kube-system" }), `namespace "../kube-system" is not a namespace name`},
		{"namespace in capitals", edited("ns-caps", func(j map[string]any) { j["namespace"] = "Shop" }), `namespace "Shop"`},
		{"namespace too long", edited("ns-long", func(j map[string]any) { j["namespace"] = strings.Repeat("a", 64) }), "is not a namespace name"},
		{"deployment with a slash", edited("name-slash", func(j map[string]any) { j["deployment"] = "web/../../x" }), `deployment "web/../../x" is not a Deployment name`},
		{"deployment with an underscore", edited("name-underscore", func(j map[string]any) { j["deployment"] = "my_app" }), `deployment "my_app"`},
		{"no namespace", edited("no-ns", func(j map[string]any) { delete(j, "namespace") }), "namespace, deployment and managed_keys are required"},
		{"no managed keys", edited("no-keys", func(j map[string]any) { j["managed_keys"] = []string{} }), "managed_keys are required"},
		{"a key a sweep never sets", edited("foreign-key", func(j map[string]any) {
			j["managed_keys"] = append(append([]string{}, cluster.ManagedKeys...), "kubectl.kubernetes.io/restartedAt")
		}), `managed_keys holds "kubectl.kubernetes.io/restartedAt", which a sweep never sets`},
		{"only a foreign key", edited("foreign-only", func(j map[string]any) { j["managed_keys"] = []string{"sidecar.istio.io/inject"} }), `"sidecar.istio.io/inject"`},
		{"a managed key twice", edited("twice", func(j map[string]any) {
			j["managed_keys"] = []string{"sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyCPU"}
		}), "twice"},
		{"a CPU request that is no quantity", edited("bad-cpu", func(j map[string]any) {
			j["original_annotations"] = map[string]string{"sidecar.istio.io/proxyCPU": "lots"}
		}), `original_annotations["sidecar.istio.io/proxyCPU"]: "lots" is not a resource quantity`},
		{"a ProxyConfig that is no YAML", edited("bad-config", func(j map[string]any) {
			j["original_annotations"] = map[string]string{"proxy.istio.io/config": "concurrency: [2"}
		}), "not a ProxyConfig YAML document"},
		{"an annotation key that is not one", edited("bad-annotation", func(j map[string]any) {
			j["original_annotations"] = map[string]string{"not a key!": "x"}
		}), "original_annotations"},
		{"a uid of 200 characters", edited("long-uid", func(j map[string]any) { j["uid"] = strings.Repeat("u", 200) }), "not a Kubernetes UID"},
		{"a negative setting", edited("negative-step", func(j map[string]any) {
			j["steps"] = []any{map[string]any{"setting": map[string]any{"concurrency": -1, "cpu_limit_millicores": 0}}}
		}), "steps[0]"},
		{"another version", edited("version-2", func(j map[string]any) { j["version"] = 2 }), "not a proxysizer journal of version 1"},
		{"another tool", edited("other-tool", func(j map[string]any) { j["tool"] = "kubectl" }), "not a proxysizer journal"},
		{"not JSON", garbage, "not valid JSON"},
		{"missing", filepath.Join(dir, "missing.json"), "no journal at"},
	}
	var cases []hostile
	for _, tt := range tests {
		cases = append(cases, hostile{name: tt.name, args: []string{"restore", "--journal", tt.journal, "--kubeconfig", kubeconfig},
			want: []string{"--journal", tt.journal, tt.want}, trees: []string{dir}})
	}
	runHostile(t, cases)
	if n := requests.Load(); n != 0 {
		t.Errorf("the refused restores sent %d request(s) to the cluster", n)
	}
	// The same server sees a restore from a valid journal: the counter
	// above could have counted.
	good := writeJournal(t, filepath.Join(dir, "good.json"), validJournal())
	if code, _, stderr := run(t, "restore", "--journal", good, "--kubeconfig", kubeconfig, "--timeout", "5s"); code != exitFailure || requests.Load() == 0 {
		t.Errorf("restore from a valid journal: exit %d, %d request(s), stderr %q; want a failure after asking the (fake) cluster", code, requests.Load(), stderr)
	}
}

// Class: the cluster configuration. A kubeconfig that does not load, an
// unknown context, or none at all is bad input naming the flag, for every
// command that talks to a cluster, before any request.
func TestHostileClusterConfig(t *testing.T) {
	dir := t.TempDir()
	server, requests := recordingServer(t)
	kubeconfig := kubeconfigFor(t, dir, server)
	garbage := filepath.Join(dir, "garbage-kubeconfig")
	writeFiles(t, map[string]string{garbage: "clusters: [oops\n"})
	noServer := filepath.Join(dir, "no-server")
	writeFiles(t, map[string]string{noServer: "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"})
	empty := filepath.Join(dir, "empty")
	writeFiles(t, map[string]string{empty: ""})
	journal := writeJournal(t, filepath.Join(dir, "journal.json"), validJournal())
	commands := map[string][]string{
		"hpa":             {"hpa", "-n", "shop", "web"},
		"inventory":       {"inventory", "-n", "shop"},
		"restore":         {"restore", "--journal", journal},
		"check":           {"check", "-n", "shop"},
		"sweep":           {"sweep", "--backend", "kubernetes", "-n", "shop", "--deployment", "web", "--target", "http://web.shop.svc:8080/", "--out", filepath.Join(dir, "never")},
		"sweep --dry-run": {"sweep", "--backend", "kubernetes", "-n", "shop", "--deployment", "web", "--target", "http://web.shop.svc:8080/", "--dry-run"},
	}
	// No in-cluster service account either: the tests do not run in a pod.
	noCluster := map[string]string{"KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "", "HOME": dir}
	var cases []hostile
	for name, args := range commands {
		with := func(more ...string) []string { return append(args[:len(args):len(args)], more...) }
		cases = append(cases,
			hostile{name: name + ": a kubeconfig that does not parse", args: with("--kubeconfig", garbage), want: []string{"--kubeconfig", garbage}},
			hostile{name: name + ": a kubeconfig without a server", args: with("--kubeconfig", noServer), want: []string{"--kubeconfig"}},
			hostile{name: name + ": a missing kubeconfig", args: with("--kubeconfig", filepath.Join(dir, "nope")), want: []string{"--kubeconfig", "nope"}},
			hostile{name: name + ": an unknown context", args: with("--kubeconfig", kubeconfig, "--context", "prod"), want: []string{"--context", `no context "prod"`, "expected one of test"}},
			hostile{name: name + ": no configuration at all", args: args, env: noCluster, want: []string{"--kubeconfig", "no Kubernetes client configuration found"}},
			hostile{name: name + ": an empty $KUBECONFIG file", args: args, env: map[string]string{"KUBECONFIG": empty, "KUBERNETES_SERVICE_HOST": "", "HOME": dir}, want: []string{"--kubeconfig"}},
		)
	}
	for i := range cases {
		cases[i].trees = []string{dir}
	}
	runHostile(t, cases)
	if n := requests.Load(); n != 0 {
		t.Errorf("commands refused for their configuration sent %d request(s)", n)
	}
}

// restore --timeout bounds the whole restore: against a server that
// accepts connections and never completes a TLS handshake (client-go's
// own handshake timeout is 10 s), it gives up at the timeout.
func TestRestoreTimeoutEndToEnd(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never answers: the handshake hangs
		}
	}()
	dir := t.TempDir()
	kubeconfig := kubeconfigFor(t, dir, "https://"+l.Addr().String())
	journal := writeJournal(t, filepath.Join(dir, "journal.json"), validJournal())
	for _, args := range [][]string{
		{"restore", "--journal", journal, "--kubeconfig", kubeconfig, "--timeout", "1s"},
		{"hpa", "-n", "shop", "web", "--kubeconfig", kubeconfig, "--timeout", "1s"},
		{"inventory", "-n", "shop", "--kubeconfig", kubeconfig, "--timeout", "1s"},
	} {
		start := time.Now()
		code, stdout, stderr := run(t, args...)
		took := time.Since(start)
		if code != exitFailure || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want a failure", args[0], code, stdout, stderr)
		}
		// 1 s asked; 3 s leaves room for a loaded machine, and is far
		// below the 10 s handshake timeout the request would otherwise wait.
		if took > 3*time.Second {
			t.Errorf("%s --timeout 1s took %v", args[0], took.Round(time.Millisecond))
		}
	}
	if data, _ := os.ReadFile(journal); !strings.Contains(string(data), `"tool":"proxysizer"`) || strings.Contains(string(data), "restored_at") {
		t.Error("the journal changed although nothing was restored")
	}
}
