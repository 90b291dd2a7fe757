package local

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/log"
)

// The lab app runs in a child process, like an app container beside its
// sidecar: its CPU stays out of the load generator's own measurement. The
// child is this same executable, started with labAppEnv set; main (and any
// test binary that starts a lab) calls RunLabAppIfChild first thing.
const (
	labAppEnv        = "PROXYSIZER_LAB_APP"
	labAppOutboundTo = "PROXYSIZER_LAB_OUTBOUND_PORT"
	labAppFanout     = "PROXYSIZER_LAB_FANOUT"
)

// labPorts is the child's ready message.
type labPorts struct {
	App        int `json:"app"`
	AppDirect  int `json:"app_direct"`
	Downstream int `json:"downstream"`
}

// RunLabAppIfChild serves the lab app and never returns when this process
// was started as one; otherwise it returns at once.
func RunLabAppIfChild() {
	if os.Getenv(labAppEnv) != "1" {
		return
	}
	if err := serveLabApp(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lab app:", err)
		os.Exit(1)
	}
	select {} // serve until killed
}

func serveLabApp(ready io.Writer) error {
	log.SetLogLevel(log.Warning)
	outbound, err := strconv.Atoi(os.Getenv(labAppOutboundTo))
	if err != nil {
		return fmt.Errorf("%s: %v", labAppOutboundTo, err)
	}
	fanout, err := strconv.Atoi(os.Getenv(labAppFanout))
	if err != nil || fanout < 0 {
		return fmt.Errorf("%s: want an integer >= 0, got %q", labAppFanout, os.Getenv(labAppFanout))
	}
	_, downAddr := fhttp.ServeTCP("127.0.0.1:0", "")
	if downAddr == nil {
		return fmt.Errorf("downstream echo server did not start")
	}
	app, err := fanoutServer("app", fanout, outbound)
	if err != nil {
		return err
	}
	direct, err := fanoutServer("app-direct", fanout, downAddr.Port)
	if err != nil {
		return err
	}
	return json.NewEncoder(ready).Encode(labPorts{App: app, AppDirect: direct, Downstream: downAddr.Port})
}

// fanoutServer starts fortio's MultiServer, which sends each incoming
// request on to every target, mirroring its URI and body: k targets make an
// app with k outbound calls per request.
func fanoutServer(name string, fanout, targetPort int) (int, error) {
	cfg := &fhttp.MultiServerConfig{Name: name}
	for range fanout {
		cfg.Targets = append(cfg.Targets, fhttp.TargetConf{
			Destination:  fmt.Sprintf("http://127.0.0.1:%d", targetPort),
			MirrorOrigin: true,
		})
	}
	_, addr := fhttp.MultiServer("127.0.0.1:0", cfg)
	if addr == nil {
		return 0, fmt.Errorf("%s did not start", name)
	}
	return addr.(*net.TCPAddr).Port, nil
}

// labApp is the running child.
type labApp struct {
	proc  *process
	ports labPorts
}

// startLabApp starts the child app whose outbound calls go to the proxy's
// outbound port.
func startLabApp(workDir string, outboundPort, fanout int) (*labApp, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(workDir, "lab-app.log")
	logFile, err := createIn(workDir, "lab-app.log")
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), labAppEnv+"=1",
		fmt.Sprintf("%s=%d", labAppOutboundTo, outboundPort), fmt.Sprintf("%s=%d", labAppFanout, fanout))
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start lab app: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	line, err := scanJSONLine(bufio.NewReader(stdout), 10*time.Second)
	var ports labPorts
	if err == nil {
		err = json.Unmarshal(line, &ports)
	}
	if err != nil {
		p.stop(time.Second)
		return nil, fmt.Errorf("lab app did not start: %v (%s)", err, p.logTail())
	}
	return &labApp{proc: p, ports: ports}, nil
}
