//go:build !linux

package loadgen

import (
	"context"
	"errors"
)

// Without epoll and timerfd every protocol runs on fortio's clients
// (callerTransport); see eventloop_linux.go.
func eventLoopTransport(Options) bool { return false }

func newLoopTransport(context.Context, Options) (transport, error) {
	return nil, errors.New("no HTTP/1.1 event loop on this system")
}
