package loadgen

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Real-time priority for the event loops.
//
// On a shared machine the generator's calls go out late when other
// processes hold the CPU its loop needs: the kernel's run queue, not the
// engine (issue 16: threads waiting 0.5-2.3 s for a CPU in 3 s runs). A
// fixed-rate run's loop therefore runs at real-time priority, SCHED_RR 1,
// where the process may (root, or CAP_SYS_NICE): it then preempts ordinary
// processes as soon as a call is due or a reply arrives. At 12,000 qps on
// a core shared with a load average of 5 its own late calls fell from
// 7-11% to 0.2-0.5%. The loop sleeps in epoll_wait between events, so it
// takes only the CPU its calls need (the kernel caps real-time tasks at 95%
// of a CPU in any case); a max-rate run, which would keep a CPU busy, runs
// at normal priority. The thread is put back when the phase ends.

// raiseThread locks the calling goroutine to its thread and, where the
// process may, runs that thread at real-time priority; it says whether it
// did, and the returned function puts everything back.
func raiseThread() (restore func(), raised bool) {
	runtime.LockOSThread()
	old, err := unix.SchedGetAttr(0, 0)
	if err == nil {
		err = unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_RR, Priority: 1}, 0)
	}
	if err != nil {
		runtime.UnlockOSThread()
		return func() {}, false
	}
	return func() {
		_ = unix.SchedSetAttr(0, old, 0)
		runtime.UnlockOSThread()
	}, true
}
