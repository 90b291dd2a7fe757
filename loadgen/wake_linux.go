package loadgen

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Precise wake-ups.
//
// Go's timers wake a goroutine late whenever the process has nothing else to
// run: the runtime then waits for its next timer in epoll_wait, whose
// timeout is in whole milliseconds and rounded up to 1 ms when shorter. A
// dispatcher sleeping until each call is due woke 0.55 ms late at the
// median and more than 1 ms late for 8-15% of calls at 300-10,000 qps
// (bench notes in issue 16), which alone breaks the 1 ms behind-schedule
// gate. A timerfd registered with the same netpoller wakes epoll_wait at
// the kernel's high-resolution timer instead: 30-45 us late at the median.

// waker sleeps through a Linux timerfd read in Go's netpoller.
type waker struct {
	fd   int
	file *os.File
	buf  [8]byte
}

func newWaker() (*waker, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// A non-blocking descriptor makes os.NewFile register it with the
	// netpoller, so Read parks the goroutine instead of a thread.
	return &waker{fd: fd, file: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// sleep returns after d (at once when d <= 0).
func (w *waker) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	if err := unix.TimerfdSettime(w.fd, 0, &spec, nil); err != nil {
		return err
	}
	_, err := w.file.Read(w.buf[:])
	return err
}

func (w *waker) close() { w.file.Close() }
