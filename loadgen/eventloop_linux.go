package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"
	"golang.org/x/sys/unix"
)

// The HTTP/1.1 event loop.
//
// Plain HTTP/1.1 (the default, and what proxies are sized with) is driven
// by event loops of this package instead of fortio's client: each loop
// owns some of the connections as non-blocking sockets in an epoll set,
// with a timerfd for the schedule, and reads and writes them with direct
// system calls, like wrk. fortio's fast client over Go's netpoller cost
// 13-16 us of CPU per request against wrk's 10-11 on the 2-vCPU machine of
// issue 16 (perf stat task-clock, interleaved runs): every call parks and
// wakes a goroutine, reads once more to find the socket empty, and the
// runtime hands its processor to another thread whenever a write to
// loopback takes over 20 us. A loop of raw system calls cost 8.4-10.5 us.
// The requests are the ones fortio's fast client sends (built from the same
// fhttp.HTTPOptions) and the responses are read by fortio's rules
// (h1Response), so the figures and fortio's result mean the same.
//
// A loop waits first in an epoll_wait of up to a millisecond made as a raw
// system call (the runtime does not see it, so it keeps its processor), and
// only when nothing came in that time in one the runtime does see, so that
// its processor is released while the loop is idle.

// loopTransport is a run's HTTP/1.1 connections, spread over loops.
type loopTransport struct {
	o       Options
	http    *fhttp.HTTPOptions
	request []byte
	addr    unix.Sockaddr
	family  int
	dest    string // the address dialled, for fortio's IPCountMap
	conns   []*h1Conn
	loops   []*eventLoop
}

// eventLoopTransport says whether Run drives o with event loops: plain
// http:// HTTP/1.1.
func eventLoopTransport(o Options) bool {
	u, err := url.Parse(o.URL)
	return err == nil && o.Protocol == HTTP1 && u.Scheme == "http" && !fortioClientForHTTP1
}

// fortioClientForHTTP1 makes HTTP/1.1 runs use fortio's fast client
// instead, so that tests compare the two on the same target.
var fortioClientForHTTP1 = false

// loopCount is how many loops drive the connections: one per processor
// the runtime may use, less one left to the rest of the program, at least
// one, never more than the connections.
func loopCount(connections int) int {
	return max(1, min(runtime.GOMAXPROCS(0)-1, connections))
}

func newLoopTransport(ctx context.Context, o Options) (*loopTransport, error) {
	ho, err := newHTTPOptions(o)
	if err != nil {
		return nil, err
	}
	target, err := ParseTarget(o.URL)
	if err != nil {
		return nil, err
	}
	t := &loopTransport{o: o, http: ho, request: h1Request(ho)}
	if err := t.resolve(ctx, target.HostPort); err != nil {
		return nil, err
	}
	for i := range o.Connections {
		t.conns = append(t.conns, newH1Conn(i))
	}
	n := loopCount(len(t.conns))
	shares := make([][]*h1Conn, n)
	for i, c := range t.conns {
		shares[i%n] = append(shares[i%n], c)
	}
	for _, conns := range shares {
		l, err := newEventLoop(t, conns)
		if err != nil {
			t.close()
			return nil, err
		}
		t.loops = append(t.loops, l)
	}
	if err := t.prime(ctx); err != nil {
		t.close()
		return nil, err
	}
	t.resetFigures()
	return t, nil
}

// prime makes one untimed call per connection, as fortio's runner does:
// the connections are open and warm before anything is measured.
func (t *loopTransport) prime(ctx context.Context) error {
	run := &phaseRun{start: time.Now(), records: make([]callRecord, len(t.conns))}
	for i := range run.records {
		run.records[i] = newCallRecord(false)
	}
	var completed atomic.Int64
	stop := newStopper()
	defer stop.stop()
	go func() {
		select {
		case <-ctx.Done():
			stop.stop()
		case <-stop.ctx.Done():
		}
	}()
	t.each(func(l *eventLoop, _ int) { l.prime(run, &completed, stop) })
	return ctx.Err()
}

// h1Request is the request fortio's fast client sends for ho
// (fhttp.NewFastClient): request line, Host (or the -H Host override),
// fortio's headers in http.Header's order, payload.
func h1Request(ho *fhttp.HTTPOptions) []byte {
	u, _ := url.Parse(ho.URL)
	host := u.Host
	if override := ho.AllHeaders().Get("Host"); override != "" {
		host = override
	}
	var b bytes.Buffer
	b.WriteString(ho.Method() + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + host + "\r\n")
	_ = ho.GenerateHeaders().Write(&b)
	b.WriteString("\r\n")
	b.Write(ho.Payload)
	return b.Bytes()
}

func (t *loopTransport) resolve(ctx context.Context, hostPort string) error {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return err
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("resolving %s: %w", host, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	ip := ips[0].IP
	t.dest = net.JoinHostPort(ip.String(), port)
	if v4 := ip.To4(); v4 != nil {
		sa := &unix.SockaddrInet4{Port: p}
		copy(sa.Addr[:], v4)
		t.addr, t.family = sa, unix.AF_INET
		return nil
	}
	sa := &unix.SockaddrInet6{Port: p}
	copy(sa.Addr[:], ip.To16())
	t.addr, t.family = sa, unix.AF_INET6
	return nil
}

// each runs f on one goroutine per loop, with the loop's number, and waits
// for them all.
func (t *loopTransport) each(f func(l *eventLoop, n int)) {
	var wg sync.WaitGroup
	for i, l := range t.loops {
		wg.Go(func() { f(l, i) })
	}
	wg.Wait()
}

func (t *loopTransport) connections() int { return len(t.conns) }
func (t *loopTransport) fixed(pl *plan, d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) (time.Duration, error) {
	lastDue := make([]time.Duration, len(t.loops))
	var raised atomic.Int64
	run.start = time.Now() // the loops are ready: the schedule starts now
	t.each(func(l *eventLoop, n int) {
		if !t.o.NoRealtime {
			restore, ok := raiseThread()
			defer restore()
			if ok {
				raised.Add(1)
			}
			l.realtime = ok
			defer func() { l.realtime = false }()
		}
		lastDue[n] = l.runFixed(pl.share(n, len(t.loops)), d, run, completed, stop)
	})
	run.realtime = int(raised.Load()) == len(t.loops)
	var last time.Duration
	for _, due := range lastDue {
		last = max(last, due)
	}
	return last, nil
}

func (t *loopTransport) closedLoop(d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) error {
	run.start = time.Now()
	t.each(func(l *eventLoop, _ int) { l.runClosed(d, run, completed, stop) })
	return nil
}

func (t *loopTransport) resetFigures() {
	for _, c := range t.conns {
		c.resetFigures()
	}
}

func (t *loopTransport) close() {
	for _, l := range t.loops {
		l.close()
	}
	for _, c := range t.conns {
		c.closeSocket()
	}
}

// fortioResult is fortio's HTTP result from the connections' figures.
func (t *loopTransport) fortioResult(rr periodic.RunnerResults) *Result {
	res := &fhttp.HTTPRunnerResults{RunnerResults: rr, HTTPOptions: *t.http,
		RetCodes: map[int]int64{}, IPCountMap: map[string]int{}}
	sizes, headerSizes := stats.NewHistogram(0, 100), stats.NewHistogram(0, 5)
	connStats := stats.NewHistogram(0, histogramResolution)
	for _, c := range t.conns {
		for code, n := range c.codes {
			res.RetCodes[code] += n
		}
		sizes.Transfer(c.sizes.histogram().Clone())
		headerSizes.Transfer(c.headerSizes.histogram().Clone())
		connStats.Transfer(c.connStats.Clone())
		res.Sockets = append(res.Sockets, c.connStats.Count)
		res.SocketCount += c.connStats.Count
	}
	if connStats.Count > 0 {
		res.IPCountMap[t.dest] = int(connStats.Count)
	}
	res.Sizes, res.HeaderSizes = sizes.Export(), headerSizes.Export()
	res.ConnectionStats = connStats.Export().CalcPercentiles(reportedPercentiles)
	return &Result{HTTP: res}
}

// h1Conn is one connection and the call it carries.
type h1Conn struct {
	index   int
	fd      int // -1 when closed
	state   connState
	written int
	read    int64 // bytes read for the call in flight (what fortio counts as its size)
	reused  bool  // the socket served a call before this one
	retried bool
	resp    h1Response
	// The call in flight.
	t         ticket
	scheduled bool // a fixed-rate call (t is set), not a max-rate or priming one
	begin     time.Duration
	connectAt time.Duration
	// The connection's figures for fortio's result.
	codes              map[int]int64
	sizes, headerSizes sizeRecorder
	connStats          *stats.Histogram
}

type connState int

const (
	connIdle connState = iota
	connConnecting
	connWriting
	connReading
)

func newH1Conn(index int) *h1Conn {
	c := &h1Conn{index: index, fd: -1, connStats: stats.NewHistogram(0, histogramResolution)}
	c.resetFigures()
	return c
}

func (c *h1Conn) resetFigures() {
	c.codes = map[int]int64{}
	c.sizes.reset(stats.NewHistogram(0, 100))
	c.headerSizes.reset(stats.NewHistogram(0, 5))
}

func (c *h1Conn) closeSocket() {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	c.reused = false
}

// eventLoop drives some connections from one goroutine.
type eventLoop struct {
	t     *loopTransport
	conns []*h1Conn
	epfd  int
	timer int // timerfd of the schedule
	armed time.Duration
	// interval is the dispatch interval of the loop's share of the rate.
	interval time.Duration
	idle     []*h1Conn // FIFO, so that calls rotate over every connection
	queue    []ticket  // due calls waiting for a connection, FIFO
	busy     int
	buf      []byte
	events   []unix.EpollEvent
	// The phase in progress.
	run       *phaseRun
	completed *atomic.Int64
	start     time.Time
	now       time.Duration
	lastScan  time.Duration
	closedRun bool          // max rate: call again on completion until the end
	end       time.Duration // max rate: no call starts after it
	realtime  bool          // the loop's thread runs at real-time priority
}

const timerIndex = -1

func newEventLoop(t *loopTransport, conns []*h1Conn) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	timer, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	l := &eventLoop{t: t, conns: conns, epfd: epfd, timer: timer, buf: make([]byte, 64<<10),
		events: make([]unix.EpollEvent, 256)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, timer, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: timerIndex}); err != nil {
		l.close()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return l, nil
}

// close releases the loop's own descriptors.
func (l *eventLoop) close() {
	unix.Close(l.timer)
	unix.Close(l.epfd)
}

func (l *eventLoop) watch(i, fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(i)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	return nil
}

func (l *eventLoop) begin(run *phaseRun, completed *atomic.Int64) {
	l.run, l.completed, l.start = run, completed, run.start
	l.idle, l.queue, l.busy = l.idle[:0], l.queue[:0], 0
	for _, c := range l.conns {
		l.idle = append(l.idle, c)
	}
	l.tick()
	l.lastScan = l.now
}

func (l *eventLoop) tick() { l.now = time.Since(l.start) }

// prime makes one untimed call on every connection.
func (l *eventLoop) prime(run *phaseRun, completed *atomic.Int64, stop *stopper) {
	l.begin(run, completed)
	idle := l.idle
	l.idle = nil
	for _, c := range idle {
		l.startCall(c, ticket{}, false, false)
	}
	deadline := l.now + l.t.o.RequestTimeout + l.t.o.ConnectTimeout
	for l.busy > 0 && !stop.flag.Load() && l.now < deadline {
		l.wait()
	}
}

// runFixed makes the calls of its share of the schedule, each when due on
// an idle connection, or as soon as one is free.
func (l *eventLoop) runFixed(pl *plan, d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) (lastDue time.Duration) {
	l.begin(run, completed)
	l.closedRun, l.interval = false, dispatchInterval(pl.rate())
	deadline := d + drainGrace(d)
	next, more := pl.next()
	for !stop.flag.Load() {
		for more && next <= l.now {
			t := ticket{due: next, sent: l.now}
			lastDue = next
			if n := len(l.idle); n > 0 {
				c := l.idle[0]
				l.idle = l.idle[1:]
				l.startCall(c, t, true, false)
			} else {
				l.queue = append(l.queue, t)
			}
			next, more = pl.next()
		}
		if l.now > deadline && len(l.queue) > 0 {
			l.dropQueued()
		}
		if !more && len(l.queue) == 0 && l.busy == 0 {
			break
		}
		if more {
			l.arm(next)
		}
		l.wait()
	}
	l.disarm()
	return lastDue
}

// runClosed calls back to back on every connection until d.
func (l *eventLoop) runClosed(d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) {
	l.begin(run, completed)
	l.closedRun, l.end = true, d
	idle := l.idle
	l.idle = nil
	for _, c := range idle {
		l.startCall(c, ticket{}, false, false)
	}
	for l.busy > 0 && !stop.flag.Load() {
		l.wait()
	}
}

// dropQueued gives up the calls still waiting after the drain deadline.
func (l *eventLoop) dropQueued() {
	if len(l.conns) > 0 {
		l.run.records[l.conns[0].index].dropped += int64(len(l.queue))
	}
	l.queue = l.queue[:0]
}

// arm makes sure the schedule's timer fires by the time the call due at
// offset due is, but not sooner than the dispatch interval from now: calls
// due within it go out with the next wake-up. A timer already set to fire
// earlier is kept, so that most wake-ups cost one system call to re-arm.
func (l *eventLoop) arm(due time.Duration) {
	want := max(due, l.now+l.interval)
	if l.armed != 0 && l.armed <= want {
		return
	}
	l.armed = want
	wait := max(want-time.Since(l.start), time.Microsecond)
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(wait.Nanoseconds())}
	_ = unix.TimerfdSettime(l.timer, 0, &spec, nil)
}

// disarm stops the schedule's timer.
func (l *eventLoop) disarm() {
	l.armed = 0
	_ = unix.TimerfdSettime(l.timer, 0, &unix.ItimerSpec{}, nil)
}

// maxWait bounds one blocking wait, so that stops and request timeouts are
// seen within it.
const maxWait = 10 * time.Millisecond

// rawWaitMillis is how long a loop waits in a raw epoll_wait, keeping its
// processor, before it waits where the runtime sees it: at high rates the
// next event comes sooner, and a runtime-aware wait would cost a thread
// hand-off each time.
const rawWaitMillis = 1

// wait waits for events and handles them. A loop at real-time priority
// only ever waits in raw system calls: after a wait the runtime sees, its
// goroutine needs a processor back from the runtime, which may have handed
// it to an ordinary thread that other processes keep off the CPU, and the
// loop would wait for them after all.
func (l *eventLoop) wait() {
	wait := rawWaitMillis
	if l.realtime {
		wait = int(maxWait / time.Millisecond)
	}
	n := rawEpollWait(l.epfd, l.events, wait)
	if n == 0 && !l.realtime {
		var err error
		n, err = unix.EpollWait(l.epfd, l.events, int(maxWait/time.Millisecond))
		if err != nil {
			n = 0
		}
	}
	l.tick()
	for _, ev := range l.events[:max(n, 0)] {
		if ev.Fd == timerIndex {
			var b [8]byte
			_, _ = unix.Read(l.timer, b[:])
			l.armed = 0
			continue
		}
		l.handle(l.conns[ev.Fd], ev.Events)
	}
	if l.now-l.lastScan >= maxWait {
		l.lastScan = l.now
		l.expire()
	}
}

// slot is the position in this loop of the connection with a transport
// index (the loop's connections are every len(loops)-th).
func (l *eventLoop) slot(index int) int { return index / len(l.t.loops) }

// rawRead and rawWrite are read(2) and write(2) on a non-blocking socket,
// as raw system calls: they never block, so the runtime need not know of
// them (and does not hand the loop's processor to another thread when a
// write to loopback runs long delivering to the server).
func rawRead(fd int, b []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
}

func rawWrite(fd int, b []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
}

func rawEpollWait(epfd int, events []unix.EpollEvent, msec int) int {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), uintptr(msec), 0, 0)
	if e != 0 {
		return 0
	}
	return int(r)
}

// expire fails the calls that have run past the request timeout.
func (l *eventLoop) expire() {
	for _, c := range l.conns {
		if c.state != connIdle && l.now-c.begin > l.t.o.RequestTimeout {
			l.fail(c)
		}
	}
}

// startCall starts a call on an idle connection, connecting it first when
// it is closed.
func (l *eventLoop) startCall(c *h1Conn, t ticket, scheduled, waited bool) {
	l.busy++
	c.state = connWriting // busy from here: finish counts it back
	c.t, c.scheduled, c.begin, c.retried = t, scheduled, l.now, false
	if scheduled {
		r := &l.run.records[c.index]
		if late := l.now - t.due; late > behindSlack {
			r.late++
			if waited && l.now-t.sent > t.sent-t.due {
				r.lateBusy++
			}
		}
	}
	l.send(c)
}

// send writes the request, on a new socket when the connection is closed.
func (l *eventLoop) send(c *h1Conn) {
	c.resp.reset()
	c.written, c.read = 0, 0
	if c.fd < 0 {
		l.connect(c)
		return
	}
	l.write(c)
}

func (l *eventLoop) connect(c *h1Conn) {
	fd, err := unix.Socket(l.t.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.fail(c)
		return
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1) // as Go's net package does
	c.fd, c.reused, c.connectAt = fd, false, l.now
	if err := l.watch(l.slot(c.index), fd); err != nil {
		l.fail(c)
		return
	}
	c.state = connConnecting
	switch err := unix.Connect(fd, l.t.addr); {
	case err == nil:
		l.connected(c)
	case errors.Is(err, unix.EINPROGRESS):
	default:
		l.fail(c)
	}
}

func (l *eventLoop) connected(c *h1Conn) {
	if errno, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || errno != 0 {
		l.fail(c)
		return
	}
	record(c.connStats, (l.now - c.connectAt).Seconds())
	l.write(c)
}

func (l *eventLoop) write(c *h1Conn) {
	req := l.t.request
	for c.written < len(req) {
		n, errno := rawWrite(c.fd, req[c.written:])
		if errno == unix.EAGAIN {
			c.state = connWriting
			return
		}
		if errno != 0 || n <= 0 {
			l.broken(c)
			return
		}
		c.written += n
	}
	// The reply raises an edge on the socket when it arrives, drained or
	// not yet read from since: no read until epoll reports it.
	c.state = connReading
}

// handle reacts to epoll's events on a connection.
func (l *eventLoop) handle(c *h1Conn, events uint32) {
	switch c.state {
	case connConnecting:
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.connected(c)
		}
	case connWriting:
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.write(c)
		}
	case connReading:
		if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.read(c)
		}
	case connIdle:
		if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.drainIdle(c)
		}
	}
}

// read reads what has arrived until the socket is empty or the response
// complete (no more can be there: one call at a time per connection).
func (l *eventLoop) read(c *h1Conn) {
	for {
		n, errno := rawRead(c.fd, l.buf)
		switch {
		case errno == unix.EAGAIN:
			return
		case errno == unix.EINTR:
			continue
		case errno != 0:
			l.broken(c)
			return
		case n == 0:
			if c.resp.closed() {
				l.tick()
				l.finish(c, c.resp.code, false)
			} else {
				l.broken(c)
			}
			return
		}
		c.read += int64(n)
		used, perr := c.resp.feed(l.buf[:n])
		if perr != nil {
			l.fail(c)
			return
		}
		if c.resp.done() {
			l.tick()
			l.finish(c, c.resp.code, c.resp.keepAlive && used == n)
			return
		}
	}
}

// drainIdle reads from an idle keep-alive connection: the server closing
// it, or bytes no call asked for. Either way it is closed, to be reopened
// by the next call.
func (l *eventLoop) drainIdle(c *h1Conn) {
	if c.fd >= 0 {
		c.closeSocket()
	}
}

// broken handles a socket that failed or closed mid-call: fortio's client
// retries once when a reused socket dies before any byte of the reply (the
// server closed an idle keep-alive connection), else the call failed.
func (l *eventLoop) broken(c *h1Conn) {
	if c.reused && !c.retried && c.resp.size == 0 {
		c.retried = true
		c.closeSocket()
		l.send(c)
		return
	}
	l.fail(c)
}

// fail ends the call as fortio's socket error (code -1).
func (l *eventLoop) fail(c *h1Conn) {
	l.tick()
	l.finish(c, fhttp.SocketError, false)
}

// finish records the call and hands the connection its next call.
func (l *eventLoop) finish(c *h1Conn, code int, keepAlive bool) {
	if c.state == connIdle {
		return // already finished (a failure handled twice)
	}
	l.busy--
	service := l.now - c.begin
	c.codes[code]++
	c.sizes.add(c.read)
	c.headerSizes.add(int64(c.resp.headerLen))
	r := &l.run.records[c.index]
	r.record(service.Seconds(), code != fhttp.SocketError && h1Success(code))
	if c.scheduled {
		record(r.intended, max((l.now-c.t.due).Seconds(), service.Seconds()))
	}
	r.lastStart, r.lastEnd = c.begin, l.now
	l.completed.Add(1)
	c.state = connIdle
	if keepAlive && h1Success(code) {
		c.reused = true
	} else {
		c.closeSocket()
	}
	l.next(c)
}

// next gives an idle connection its next call: a waiting one at a fixed
// rate, another at once at max rate.
func (l *eventLoop) next(c *h1Conn) {
	switch {
	case l.closedRun:
		if l.now < l.end {
			l.startCall(c, ticket{}, false, false)
		}
	case len(l.queue) > 0:
		t := l.queue[0]
		l.queue = l.queue[1:]
		l.startCall(c, t, true, true)
	default:
		l.idle = append(l.idle, c)
	}
}
