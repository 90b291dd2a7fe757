package kube

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext is parent cancelled on SIGINT or SIGTERM. A sweep runs its
// steps under it and defers Controller.RestoreDetached, which outlives the
// cancellation. After stop, a second signal kills the process as usual; the
// journal then lets `proxysizer restore` finish the job.
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}
