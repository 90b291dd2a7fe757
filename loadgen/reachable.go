package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// UnreachableError says the target refused or ignored a TCP connection, so
// no load was sent. It is bad input to a command line, not a failed run.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string { return fmt.Sprintf("target %s: %v", e.URL, e.Err) }
func (e *UnreachableError) Unwrap() error { return e.Err }

// CheckReachable dials the target's host:port once within timeout. fortio
// would otherwise retry a dead target on every call of every connection for
// the whole run (or hang on a black-holed address until its request timeout),
// so a dead target is reported up front, quickly and in one line.
func CheckReachable(ctx context.Context, rawURL string, timeout time.Duration) error {
	target, err := ParseTarget(rawURL)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	dialer := net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", target.HostPort)
	if err != nil {
		return &UnreachableError{URL: rawURL, Err: describeDialError(err, timeout)}
	}
	return conn.Close()
}

// describeDialError shortens Go's "dial tcp 127.0.0.1:1: connect: connection
// refused" to its cause, which is what a user needs to read.
func describeDialError(err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Errorf("no connection within the %v connect timeout", timeout)
	case errors.Is(err, context.Canceled):
		return err
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot resolve %s: %s", dnsErr.Name, dnsErr.Err)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
