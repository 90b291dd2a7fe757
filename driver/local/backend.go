package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// The lab's own inputs, as its problems and notes name them (see
// internal/input).
const (
	FieldProxy     input.Field = "proxy"
	FieldNoCgroups input.Field = "no cgroups"
	FieldNoPin     input.Field = "no pinning"
)

// DefaultCgroupRoot is where the cgroup hierarchies are mounted.
const DefaultCgroupRoot = "/sys/fs/cgroup"

// Config configures the local lab.
type Config struct {
	Proxy  Proxy
	Binary string // the proxy's program; default: Proxy.Binary() on PATH
	// CommandTemplate replaces the proxy's command line; {config} and
	// {concurrency} are expanded (see CommandLine).
	CommandTemplate string
	// OutboundPerRequest is k: the app's downstream calls per request.
	OutboundPerRequest int
	// NoCgroups runs without cgroups: no CPU limits, CPU and memory read
	// from /proc.
	NoCgroups  bool
	CgroupRoot string // default DefaultCgroupRoot
	// Pin places the proxy and the generator on separate CPUs.
	Pin bool
	// WorkDir holds the generated configurations and the processes' logs.
	WorkDir string
	// Names shows the lab's inputs in the caller's words.
	Names input.Names
}

// Check reports a setting the lab cannot run as configured: a CPU limit
// needs cgroups to enforce it.
func (c Config) Check(settings []results.Setting) error {
	for _, s := range settings {
		if c.NoCgroups && s.CPULimitMillicores > 0 {
			return c.Names.Errorf(driver.FieldCPULimits, "%s cannot be enforced with %s: use %s none", s.LimitString(), FieldNoCgroups, driver.FieldCPULimits)
		}
	}
	return nil
}

// Backend is the local lab; it implements driver.Backend.
type Backend struct {
	cfg       Config
	binary    string
	version   string
	hierarchy Hierarchy // nil with NoCgroups
	placement Placement
	unpin     func()
	state     *state
	ports     Ports
	app       *labApp

	setting results.Setting
	proxy   *process
	cgroup  Cgroup
	cgName  string
}

var _ driver.Backend = (*Backend)(nil)

// New prepares the lab: removes what dead sweeps left, checks cgroups,
// places CPUs, and starts the app. Close undoes all of it.
func New(ctx context.Context, cfg Config) (b *Backend, err error) {
	b = &Backend{cfg: cfg}
	if cfg.CgroupRoot == "" {
		b.cfg.CgroupRoot = DefaultCgroupRoot
	}
	// The proxy runs in its setting's directory: every path it is given must
	// be absolute, whatever --out the user typed.
	if b.cfg.WorkDir, err = filepath.Abs(cfg.WorkDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}
	if err := checkWorkDir(b.cfg.WorkDir); err != nil {
		return nil, err
	}
	if err := b.findProxy(ctx); err != nil {
		return nil, err
	}
	if !cfg.NoCgroups {
		if b.hierarchy, err = DetectHierarchy(b.cfg.CgroupRoot); err != nil {
			return nil, fmt.Errorf("%w; run as root, or run with %s (no CPU limits)", err, cfg.Names.Of(FieldNoCgroups))
		}
	}
	if _, err := Cleanup(b.hierarchy); err != nil {
		return nil, fmt.Errorf("cleaning up after an earlier sweep: %w", err)
	}
	// lab, not b: a failure below returns b as nil, and what was started
	// must still be stopped.
	lab := b
	defer func() {
		if err != nil {
			lab.Close()
		}
	}()
	if b.state, err = newState(); err != nil {
		return nil, err
	}
	if err := b.place(); err != nil {
		return nil, err
	}
	if err := b.pickPorts(); err != nil {
		return nil, err
	}
	if b.app, err = startLabApp(b.cfg.WorkDir, b.ports.Outbound, cfg.OutboundPerRequest); err != nil {
		return nil, err
	}
	if err := b.state.addProcGroup(b.app.proc.pid()); err != nil {
		return nil, err
	}
	b.ports.App, b.ports.AppDirect, b.ports.Downstream = b.app.ports.App, b.app.ports.AppDirect, b.app.ports.Downstream
	return b, nil
}

func (b *Backend) findProxy(ctx context.Context) error {
	b.binary = b.cfg.Binary
	if b.cfg.CommandTemplate != "" {
		b.binary = strings.Fields(b.cfg.CommandTemplate)[0]
	}
	if b.binary == "" {
		b.binary = b.cfg.Proxy.Binary()
	}
	path, err := lookPath(b.binary)
	if err != nil {
		return b.cfg.Names.Errorf(FieldProxy, "%s not found: install it (Debian: apt-get install %s) or choose another %s", b.binary, b.cfg.Proxy.Binary(), FieldProxy)
	}
	b.binary = path
	b.version, err = b.cfg.Proxy.Version(ctx, path)
	return err
}

func (b *Backend) place() error {
	if !b.cfg.Pin {
		b.placement = Placement{Note: b.cfg.Names.Sprintf("not pinned (%s): proxy and load generator share all CPUs", FieldNoPin)}
		return nil
	}
	cpus, err := AvailableCPUs()
	if err != nil {
		return err
	}
	b.placement = PlanPlacement(cpus)
	if !b.placement.Separate() {
		return nil
	}
	if b.hierarchy == nil {
		b.placement = Placement{Note: b.cfg.Names.Sprintf("not pinned: placing the proxy needs a cpuset cgroup, and this run has none (%s)", FieldNoCgroups)}
		return nil
	}
	b.unpin, err = pinThisProcess(b.placement.GeneratorCPUs)
	return err
}

// pickPorts reserves the proxy's three loopback ports: bound then released,
// so the proxy can bind them (SO_REUSEADDR) at each restart.
func (b *Backend) pickPorts() error {
	ports := make([]int, 3)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	b.ports.Inbound, b.ports.Outbound, b.ports.Admin = ports[0], ports[1], ports[2]
	return nil
}

// Describe says which proxy and machine the figures describe.
func (b *Backend) Describe() (results.Proxy, results.Environment) {
	host, _ := os.Hostname()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	env := results.Environment{
		Hostname:          host,
		Cores:             runtime.NumCPU(),
		Kernel:            unix.ByteSliceToString(uts.Release[:]),
		CgroupVersion:     "none",
		CPULimitsEnforced: b.hierarchy != nil,
		Placement: results.Placement{
			ProxyCPUs: CPUList(b.placement.ProxyCPUs), GeneratorCPUs: CPUList(b.placement.GeneratorCPUs),
			Separate: b.placement.Separate(), Note: b.placement.Note,
		},
	}
	if b.hierarchy != nil {
		env.CgroupVersion = b.hierarchy.Version()
	} else {
		env.Notes = append(env.Notes, "no cgroups: CPU limits not enforced; proxy CPU and memory read from /proc")
	}
	env.Notes = append(env.Notes, fmt.Sprintf("lab app: fortio MultiServer fanning each request out to %d downstream call(s) through the proxy", b.cfg.OutboundPerRequest))
	cmd := strings.Join(b.command("{config}", 0), " ")
	return results.Proxy{Name: b.cfg.Proxy.Name(), Version: b.version, Command: cmd}, env
}

func (b *Backend) command(configPath string, concurrency int) []string {
	if b.cfg.CommandTemplate != "" {
		return CommandLine(b.cfg.CommandTemplate, configPath, concurrency)
	}
	return append([]string{b.binary}, b.cfg.Proxy.Args(configPath, concurrency, b.cfg.WorkDir)...)
}

// Start runs the proxy at a setting, in a fresh cgroup with its CPU quota.
func (b *Backend) Start(ctx context.Context, s results.Setting) error {
	if b.proxy != nil {
		return errors.New("a proxy is already running: Stop it first")
	}
	if s.CPULimitMillicores > 0 && b.hierarchy == nil {
		return fmt.Errorf("CPU limit %s needs cgroups, which this run has not got", s.LimitString())
	}
	b.setting = s
	dir := filepath.Join(b.cfg.WorkDir, s.Key())
	config, err := b.cfg.Proxy.Config(b.ports, s.Concurrency, dir)
	if err != nil {
		return err
	}
	configPath := filepath.Join(dir, b.cfg.Proxy.ConfigName())
	if err := writeIn(b.cfg.WorkDir, filepath.Join(s.Key(), b.cfg.Proxy.ConfigName()), config); err != nil {
		return err
	}
	logFile, err := createIn(b.cfg.WorkDir, filepath.Join(s.Key(), "proxy.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	procs, err := b.makeCgroup(s)
	if err != nil {
		return err
	}
	b.proxy, err = startProcess(b.command(configPath, s.Concurrency), procs, logFile, dir)
	if err != nil {
		b.Stop(ctx)
		return err
	}
	if err := b.state.addProcGroup(b.proxy.pid()); err != nil {
		b.Stop(ctx)
		return err
	}
	if err := b.waitReady(ctx, 15*time.Second); err != nil {
		b.Stop(ctx)
		return err
	}
	return nil
}

func (b *Backend) makeCgroup(s results.Setting) ([]string, error) {
	if b.hierarchy == nil {
		return nil, nil
	}
	b.cgName = cgroupName(s.Key())
	if err := b.state.addCgroup(b.cgName); err != nil {
		return nil, err
	}
	cg, err := b.hierarchy.Create(b.cgName)
	if err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	b.cgroup = cg
	if err := cg.SetCPULimit(s.CPULimitMillicores); err != nil {
		return nil, err
	}
	if b.placement.Separate() {
		if err := cg.SetCPUs(CPUList(b.placement.ProxyCPUs)); err != nil {
			return nil, err
		}
	}
	return cg.ProcsFiles(), nil
}

// waitReady polls the proxy's admin endpoint until it answers with counters.
func (b *Backend) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if b.proxy.exited() {
			return fmt.Errorf("%s exited at start-up: %s", b.cfg.Proxy.Name(), b.proxy.logTail())
		}
		if _, last = b.cfg.Proxy.ReadCounters(ctx, b.ports); last == nil {
			if last = loadgen.CheckReachable(ctx, b.inboundURL(), time.Second); last == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %v: %v (%s)", b.cfg.Proxy.Name(), timeout, last, b.proxy.logTail())
}

func (b *Backend) inboundURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/echo", b.ports.Inbound)
}

// Stop stops the proxy and removes its cgroup; safe to call at any time.
func (b *Backend) Stop(context.Context) error {
	var errs []error
	if b.proxy != nil {
		b.proxy.stop(5 * time.Second)
		errs = append(errs, b.state.removeProcGroup(b.proxy.pid()))
		b.proxy = nil
	}
	if b.cgName != "" && b.hierarchy != nil {
		errs = append(errs, b.hierarchy.Open(b.cgName).Remove())
		errs = append(errs, b.state.removeCgroup(b.cgName))
		b.cgroup, b.cgName = nil, ""
	}
	return errors.Join(errs...)
}

// Close stops everything the lab started and restores this process's CPU
// affinity.
func (b *Backend) Close() error {
	errs := []error{b.Stop(context.Background())}
	if b.app != nil {
		b.app.proc.stop(2 * time.Second)
		b.app = nil
	}
	if b.unpin != nil {
		b.unpin()
		b.unpin = nil
	}
	if b.state != nil {
		errs = append(errs, b.state.delete())
		b.state = nil
	}
	return errors.Join(errs...)
}
