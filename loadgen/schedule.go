package loadgen

import "time"

// schedule is fortio's fixed-rate plan for one run: which call of which
// connection is meant to start when. fortio keeps it private, so it is
// recomputed here from the same inputs with the same arithmetic as
// periodic.runQPSSetup and periodic.runOne (fortio v1.75.3); Run checks
// afterwards that fortio used the same number of threads.
type schedule struct {
	threads        int     // fortio lowers the thread count when calls are few
	callsPerThread int64   // calls each thread makes (>= 2)
	perThreadQPS   float64 // rate of each thread
	uniform        bool    // threads staggered evenly over one period
}

// fortioSchedule mirrors runQPSSetup for a duration-bound run at qps > 0.
func fortioSchedule(qps float64, duration time.Duration, threads int, uniform bool) schedule {
	numCalls := int64(qps * duration.Seconds())
	if numCalls < 2 {
		numCalls, threads = 2, 1
	}
	if int64(2*threads) > numCalls {
		threads = int(numCalls / 2)
	}
	numCalls /= int64(threads)
	return schedule{
		threads:        threads,
		callsPerThread: numCalls,
		perThreadQPS:   qps / float64(threads),
		uniform:        uniform,
	}
}

// intendedOffset is when call iter of thread id is meant to start, relative
// to the run's start. fortio spreads the calls so that the last one lands at
// the end of the duration: call i is due at (i + i/(n-1)) / perThreadQPS.
// Uniform mode delays thread id by id/threads of one period.
func (s schedule) intendedOffset(id int, iter int64) time.Duration {
	due := (float64(iter) + float64(iter)/float64(s.callsPerThread-1)) / s.perThreadQPS
	if s.uniform {
		period := 1 / s.perThreadQPS
		due += period - period/float64(s.threads)*float64(s.threads-id)
	}
	return time.Duration(due * float64(time.Second))
}
