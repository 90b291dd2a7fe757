// Package kubeharness runs a real Kubernetes control plane on 127.0.0.1 for
// integration tests: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (a fake node whose pods become Running and Ready
// without a kubelet); with Options.Autoscaling also the HPA controller,
// metrics-server behind the aggregation layer, and kwok emulating the
// kubelet's resource metrics. The binaries come from
// scripts/kube-harness/build.sh, which builds them from source through the
// Go module proxy and caches them.
//
// One harness per test binary: start it in TestMain with RunTests.
package kubeharness

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"
)

// Version is the Kubernetes version the harness builds and runs.
const Version = "v1.33.4"

// Binaries are the programs the harness runs, all in one directory;
// AutoscalingBinaries are added with Options.Autoscaling.
var (
	Binaries            = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}
	AutoscalingBinaries = []string{"metrics-server"}
)

// NodeName is the fake node kwok manages.
const NodeName = "kwok-node-0"

// Options tune Start.
type Options struct {
	// BinDir holds the binaries (default: BinDir()).
	BinDir string
	// Build runs scripts/kube-harness/build.sh when the binaries are
	// missing (it is idempotent and cached).
	Build bool
	// Log receives progress lines (nil: discarded).
	Log io.Writer
	// StartTimeout bounds the whole start (default 2 minutes).
	StartTimeout time.Duration
	// Autoscaling, when set, runs the HPA controller with these flags and
	// a real metrics.k8s.io (TestAutoscaling gives the tests' settings).
	Autoscaling *Autoscaling
}

// Harness is a running control plane.
type Harness struct {
	// Dir is the harness's temporary directory (data, keys, logs).
	Dir string
	// Kubeconfig is an admin kubeconfig (static token, system:masters).
	Kubeconfig string
	// Config is the admin client configuration.
	Config *rest.Config
	// Client and Dynamic are admin clients.
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Server is the API server's URL.
	Server string
	// Started is how long Start took.
	Started time.Duration
	// Autoscaling is the HPA controller's settings in force (nil: no HPA
	// controller), and Metrics a metrics.k8s.io client.
	Autoscaling *Autoscaling
	Metrics     metricsclient.Interface

	procs   []*proc
	log     io.Writer
	etcdURL string
	token   string
	pki     *autoscalingPKI
	// kwokPort is kwok's server (the fake kubelet endpoint) with autoscaling.
	kwokPort int
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// BinDir is where build.sh puts the binaries: $PROXYSIZER_KUBE_BIN, else
// ${PROXYSIZER_CACHE:-$HOME/.cache/proxysizer}/kube-VERSION/bin.
func BinDir() string {
	if d := os.Getenv("PROXYSIZER_KUBE_BIN"); d != "" {
		return d
	}
	cache := os.Getenv("PROXYSIZER_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		cache = filepath.Join(home, ".cache", "proxysizer")
	}
	return filepath.Join(cache, "kube-"+Version, "bin")
}

// MissingBinaries lists the binaries not in dir (or not executable): the
// control plane's, and those named in extra.
func MissingBinaries(dir string, extra ...string) []string {
	var missing []string
	for _, b := range append(append([]string{}, Binaries...), extra...) {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	return missing
}

// buildScript finds scripts/kube-harness/build.sh above the working directory.
func buildScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 {
		p := filepath.Join(dir, "scripts", "kube-harness", "build.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("scripts/kube-harness/build.sh not found above the working directory")
}

// Start runs the control plane and waits until a Deployment's pods can be
// scheduled on the fake node and become Ready. On error everything started
// is stopped.
func Start(ctx context.Context, o Options) (h *Harness, err error) {
	t0 := time.Now()
	if o.StartTimeout <= 0 {
		o.StartTimeout = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.BinDir == "" {
		o.BinDir = BinDir()
	}
	var extra []string
	if o.Autoscaling != nil {
		extra = AutoscalingBinaries
	}
	if missing := MissingBinaries(o.BinDir, extra...); len(missing) > 0 {
		if !o.Build || os.Getenv("PROXYSIZER_KUBE_BIN") != "" {
			return nil, fmt.Errorf("kube harness binaries missing in %s: %s (build them with scripts/kube-harness/build.sh)", o.BinDir, strings.Join(missing, ", "))
		}
		script, err := buildScript()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "kubeharness: %s missing, running %s (a cold build takes ~10-15 minutes)\n", strings.Join(missing, ", "), script)
		cmd := exec.CommandContext(ctx, "bash", script)
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building the kube harness (%s): %w", script, err)
		}
		if missing := MissingBinaries(o.BinDir, extra...); len(missing) > 0 {
			return nil, fmt.Errorf("kube harness binaries still missing in %s after the build: %s", o.BinDir, strings.Join(missing, ", "))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()

	removeStale()
	dir, err := os.MkdirTemp("", "proxysizer-kube-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	h = &Harness{Dir: dir, log: o.Log, Autoscaling: o.Autoscaling}
	defer func() {
		if err != nil {
			logs := h.logTails()
			h.Stop()
			err = fmt.Errorf("%w\n%s", err, logs)
		}
	}()

	if err := h.startEtcd(ctx, o.BinDir); err != nil {
		return h, err
	}
	if err := h.startAPIServer(ctx, o.BinDir); err != nil {
		return h, err
	}
	if h.Autoscaling != nil {
		if err := h.installKwokCRDs(ctx); err != nil {
			return h, err
		}
	}
	if err := h.startComponents(o.BinDir); err != nil {
		return h, err
	}
	if err := h.createNode(ctx); err != nil {
		return h, err
	}
	if h.Autoscaling != nil {
		if err := h.startMetricsServer(ctx, o.BinDir, *h.Autoscaling, h.pki); err != nil {
			return h, err
		}
	}
	h.Started = time.Since(t0)
	fmt.Fprintf(o.Log, "kubeharness: control plane %s ready at %s in %s\n", Version, h.Server, h.Started.Round(time.Millisecond))
	return h, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (h *Harness) run(name, bin string, args ...string) error {
	return h.runEnv(name, bin, nil, args...)
}

// runEnv is run with extra environment variables.
func (h *Harness) runEnv(name, bin string, env []string, args ...string) error {
	logPath := filepath.Join(h.Dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = h.Dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	// Own process group, so Stop reaches any child; and killed with the
	// test binary if it dies without Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	h.procs = append(h.procs, p)
	fmt.Fprintf(h.log, "kubeharness: started %s (pid %d)\n", name, cmd.Process.Pid)
	return nil
}

// exited reports a process that already stopped.
func (h *Harness) exited() error {
	for _, p := range h.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		default:
		}
	}
	return nil
}

func (h *Harness) startEtcd(ctx context.Context, binDir string) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	if err := h.run("etcd", filepath.Join(binDir, "etcd"),
		"--name=harness", "--data-dir="+filepath.Join(h.Dir, "etcd"),
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=harness="+peerURL, "--initial-cluster-state=new",
		"--listen-metrics-urls=", "--unsafe-no-fsync=true", "--quota-backend-bytes=1073741824",
		"--log-level=warn",
	); err != nil {
		return err
	}
	h.etcdURL = clientURL
	return h.poll(ctx, "etcd health", func() error {
		return httpOK(ctx, clientURL+"/health", "", false)
	})
}

func (h *Harness) startAPIServer(ctx context.Context, binDir string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	keyPath := filepath.Join(h.Dir, "sa.key")
	pubPath := filepath.Join(h.Dir, "sa.pub")
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	h.token = hex.EncodeToString(tok)
	tokens := filepath.Join(h.Dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(h.token+",harness-admin,harness-admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	h.Server = fmt.Sprintf("https://127.0.0.1:%d", port)
	var aggregation []string
	if h.Autoscaling != nil {
		if h.pki, err = h.makeAutoscalingPKI(); err != nil {
			return err
		}
		aggregation = h.pki.aggregationFlags()
	}
	if err := h.run("kube-apiserver", filepath.Join(binDir, "kube-apiserver"), append(aggregation,
		"--etcd-servers="+h.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(h.Dir, "pki"),
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pubPath, "--service-account-signing-key-file="+keyPath,
		"--api-audiences=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.96.0.0/16",
		// Loopback only: the endpoint reconciler would publish 127.0.0.1 as
		// the kubernetes Service's endpoint and fail.
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling=false", "--allow-privileged=true",
		"--v=0",
	)...); err != nil {
		return err
	}
	if err := h.poll(ctx, "kube-apiserver /readyz", func() error {
		return httpOK(ctx, h.Server+"/readyz", h.token, true)
	}); err != nil {
		return err
	}
	return h.writeKubeconfig()
}

func (h *Harness) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["harness"] = &clientcmdapi.Cluster{Server: h.Server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["harness-admin"] = &clientcmdapi.AuthInfo{Token: h.token}
	cfg.Contexts["harness"] = &clientcmdapi.Context{Cluster: "harness", AuthInfo: "harness-admin", Namespace: "default"}
	cfg.CurrentContext = "harness"
	h.Kubeconfig = filepath.Join(h.Dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, h.Kubeconfig); err != nil {
		return err
	}
	rc, err := clientcmd.BuildConfigFromFlags("", h.Kubeconfig)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = 100, 200
	h.Config = rc
	if h.Client, err = kubernetes.NewForConfig(rc); err != nil {
		return err
	}
	h.Dynamic, err = dynamic.NewForConfig(rc)
	return err
}

func (h *Harness) startComponents(binDir string) error {
	controllers := "deployment-controller,replicaset-controller,serviceaccount-controller"
	var hpa, env []string
	if h.Autoscaling != nil {
		controllers += ",horizontal-pod-autoscaler-controller"
		hpa = h.Autoscaling.controllerFlags()
		env = []string{"TZ=UTC"}
	}
	if err := h.runEnv("kube-controller-manager", filepath.Join(binDir, "kube-controller-manager"), env, append(hpa,
		"--kubeconfig="+h.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port=0",
		"--leader-elect=false",
		"--controllers="+controllers,
		"--service-account-private-key-file="+filepath.Join(h.Dir, "sa.key"),
		"--concurrent-deployment-syncs=5", "--concurrent-replicaset-syncs=5",
		"--v=0",
	)...); err != nil {
		return err
	}
	if err := h.run("kube-scheduler", filepath.Join(binDir, "kube-scheduler"),
		"--kubeconfig="+h.Kubeconfig,
		"--authentication-kubeconfig="+h.Kubeconfig, "--authorization-kubeconfig="+h.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port=0",
		"--leader-elect=false", "--v=0",
	); err != nil {
		return err
	}
	// kwok in kwokctl's binary runtime mode, with its default node and pod
	// stages: pods on a managed node become Running and Ready, and deleted
	// pods go away.
	kwokCfg := filepath.Join(h.Dir, "kwok.yaml")
	cfg := "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions:\n  cidr: 10.244.0.1/16\n  nodeIP: 10.244.0.1\n"
	var metrics []string
	if h.Autoscaling != nil {
		// kwok's server is the fake kubelet: the Metric below on
		// 127.0.0.1 (the node's status port), usage from
		// ClusterResourceUsage objects the tests write.
		port, err := freePort()
		if err != nil {
			return err
		}
		h.kwokPort = port
		cfg += kwokMetricConfig
		metrics = []string{
			"--server-address=127.0.0.1:" + strconv.Itoa(port),
			"--node-port=" + strconv.Itoa(port),
			"--enable-crds=ClusterResourceUsage",
		}
	}
	if err := os.WriteFile(kwokCfg, []byte(cfg), 0o644); err != nil {
		return err
	}
	return h.run("kwok", filepath.Join(binDir, "kwok"), append(metrics,
		"--kubeconfig="+h.Kubeconfig,
		"--config="+kwokCfg,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-lease-duration-seconds=40",
	)...)
}

// fakeNodeResources is the fake node's size.
func fakeNodeResources() corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1024"), corev1.ResourceMemory: resource.MustParse("8Ti"), corev1.ResourcePods: resource.MustParse("5000")}
}

func (h *Harness) createNode(ctx context.Context) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
		},
		// Room for every pod of every test of a package: the harness is
		// shared by a test binary and nothing is deleted between tests, so
		// a real node's 32 cores filled up (cmd's tests request more) and
		// the last tests' pods stayed Pending on "Insufficient cpu".
		Status: corev1.NodeStatus{Allocatable: fakeNodeResources(), Capacity: fakeNodeResources()},
	}
	if h.Autoscaling != nil {
		// Where metrics-server finds this node's resource metrics.
		node.Annotations["metrics.k8s.io/resource-metrics-path"] = "/metrics/nodes/" + NodeName + "/metrics/resource"
		node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: NodeName}}
		node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(h.kwokPort)
	}
	if _, err := h.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the fake node: %w", err)
	}
	if err := h.poll(ctx, "fake node Ready (kwok)", func() error {
		n, err := h.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return errors.New("node not Ready yet")
	}); err != nil {
		return err
	}
	// The apiserver taints a new node not-ready; without the node lifecycle
	// controller nothing lifts the taint once kwok reports Ready.
	return h.poll(ctx, "fake node untainted", func() error {
		n, err := h.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(n.Spec.Taints) == 0 {
			return nil
		}
		n.Spec.Taints = nil
		_, err = h.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		return err
	})
}

// poll retries check every 100 ms until it succeeds, a process exits or ctx ends.
func (h *Harness) poll(ctx context.Context, what string, check func() error) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		if err := h.exited(); err != nil {
			return false, err
		}
		last = check()
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %s: %w (last: %v)", what, err, last)
	}
	return nil
}

func httpOK(ctx context.Context, url, token string, insecure bool) error {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}} //nolint:gosec // loopback test server with a self-signed cert
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Stop kills every process group (SIGTERM, then SIGKILL after 5 s) in
// reverse start order and removes the directory. Safe to call twice.
func (h *Harness) Stop() {
	for i := len(h.procs) - 1; i >= 0; i-- {
		p := h.procs[i]
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // any leftover child of the group
	}
	h.procs = nil
	if h.Dir != "" && os.Getenv("PROXYSIZER_KUBE_KEEP") == "" {
		os.RemoveAll(h.Dir)
	}
}

// logTails is the end of every component's log, for a start failure.
func (h *Harness) logTails() string {
	var b strings.Builder
	for _, p := range h.procs {
		data, _ := os.ReadFile(p.log)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(&b, "--- %s log (last lines) ---\n%s\n", p.name, strings.Join(lines, "\n"))
	}
	return b.String()
}

// removeStale deletes the directories of harnesses whose test binary died
// without Stop (a test timeout panics past deferred calls); their processes
// died with it (Pdeathsig).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "proxysizer-kube-*"))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}
