//go:build !linux

package loadgen

import "time"

// waker falls back to Go's timers where there is no timerfd: wake-ups are
// then up to about 1 ms late on an idle process (see wake_linux.go).
type waker struct{ t *time.Timer }

func newWaker() (*waker, error) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &waker{t: t}, nil
}

func (w *waker) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	w.t.Reset(d)
	<-w.t.C
	return nil
}

func (w *waker) close() { w.t.Stop() }
