package local

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/proxysizer/proxysizer/internal/input"
)

// Ports are the lab's loopback ports.
type Ports struct {
	Inbound    int // proxy listener in front of the app (the sidecar's inbound)
	Outbound   int // proxy listener the app calls out through (the sidecar's outbound)
	Admin      int // proxy statistics endpoint
	App        int // the app, behind the proxy
	AppDirect  int // the same app calling the downstream directly: the baseline
	Downstream int // the service the app calls
}

// Counters are a proxy's cumulative request counts at one instant.
type Counters struct {
	// Inbound and Outbound are requests on each listener; Split is false
	// when the proxy only reports a total (nginx's stub_status).
	Inbound, Outbound int64
	Total             int64
	Split             bool
	Source            string
}

// Proxy is a proxy program the lab can run.
type Proxy interface {
	Name() string
	// Binary is the default program name looked up on PATH.
	Binary() string
	// Version asks the binary for its version.
	Version(ctx context.Context, binary string) (string, error)
	// Config renders the configuration for the lab's ports, worker count and
	// working directory.
	Config(p Ports, concurrency int, workDir string) ([]byte, error)
	// ConfigName is the file name the configuration is written to.
	ConfigName() string
	// Args are the command-line arguments, after the binary.
	Args(configPath string, concurrency int, workDir string) []string
	// ReadCounters fetches the request counters from the admin port.
	ReadCounters(ctx context.Context, p Ports) (Counters, error)
	// ScrapesCounted is how many requests one ReadCounters adds to the
	// proxy's own totals (nginx counts its stub_status request).
	ScrapesCounted() int64
}

// Proxies lists the proxies in the order auto-detection tries them: the
// registry every list of proxy names is derived from.
func Proxies() []Proxy { return []Proxy{Envoy{}, HAProxy{}, Nginx{}} }

// AutoProxy as a proxy's name picks the first of Proxies found on PATH.
const AutoProxy = "auto"

// ProxyNames are the names of Proxies, in their order.
func ProxyNames() []string {
	var names []string
	for _, p := range Proxies() {
		names = append(names, p.Name())
	}
	return names
}

// ChooseProxy returns the named proxy, or for AutoProxy the first found on
// PATH; a problem is an *input.Error on FieldProxy.
func ChooseProxy(name string, names input.Names) (Proxy, error) {
	if name == AutoProxy {
		p, _, err := DetectProxy()
		if err != nil {
			return nil, names.Errorf(FieldProxy, "%w", err)
		}
		return p, nil
	}
	for _, p := range Proxies() {
		if p.Name() == name {
			return p, nil
		}
	}
	return nil, names.Errorf(FieldProxy, "unknown proxy %q: expected %s", name, OrList(append(ProxyNames(), AutoProxy)))
}

// DetectProxy returns the first of Proxies found on PATH, and its path.
func DetectProxy() (Proxy, string, error) {
	for _, p := range Proxies() {
		if path, err := exec.LookPath(p.Binary()); err == nil {
			return p, path, nil
		}
	}
	return nil, "", fmt.Errorf("no proxy found on PATH: install one of %s (Debian: apt-get install haproxy)", strings.Join(ProxyNames(), ", "))
}

// OrList writes "a, b or c".
func OrList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// CommandLine expands a proxy command template (Config.CommandTemplate):
// {config} and {concurrency} stand for the generated configuration and the
// worker count.
func CommandLine(template, configPath string, concurrency int) []string {
	r := strings.NewReplacer("{config}", configPath, "{concurrency}", fmt.Sprint(concurrency))
	return strings.Fields(r.Replace(template))
}

// firstLine returns the first non-empty line of out, for version banners.
func firstLine(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
