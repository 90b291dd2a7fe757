package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Protocol is the wire protocol a run speaks to the target.
type Protocol string

// The protocols fortio's library can drive.
const (
	HTTP1 Protocol = "http1" // HTTP/1.1 with keep-alive, fortio's fast client
	H2C   Protocol = "h2c"   // cleartext HTTP/2, fortio's std client with an http2 transport
	GRPC  Protocol = "grpc"  // fortio's gRPC ping service (fgrpc.PingServer on the target)
)

// Protocols lists the accepted values, in the order help texts show them.
var Protocols = []Protocol{HTTP1, H2C, GRPC}

// ParseProtocol maps a flag value to a Protocol.
func ParseProtocol(s string) (Protocol, error) {
	for _, p := range Protocols {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("expected one of http1, h2c, grpc, got %q", s)
}

// MaxRate as Options.QPS asks for as many calls as the connections can make.
const MaxRate = 0

// Options describe one load run. The zero value of an optional field means
// the default documented on it.
type Options struct {
	// URL of the target: http://host:port/path. gRPC uses only host:port
	// (https:// selects TLS).
	URL      string
	Protocol Protocol // default HTTP1
	// QPS is the total requested rate across all connections; MaxRate (0)
	// means as fast as possible (closed loop, no schedule).
	QPS float64
	// Connections is the number of concurrent connections, one fortio
	// "thread" each. Default 4.
	Connections int
	Duration    time.Duration // measured period; default 10s
	// Warmup is a separate, discarded run at the same rate before the
	// measured one; 0 means none.
	Warmup time.Duration
	// PayloadSize makes HTTP calls POSTs of that many bytes, and sets the
	// gRPC ping payload size. 0 means GET / empty ping.
	PayloadSize int
	// Headers are "Name: value" strings, sent as HTTP headers or gRPC
	// metadata.
	Headers []string
	// Labels are copied into fortio's result (and its JSON) as is.
	Labels string
	// RequestTimeout bounds each call; default 3s (fortio's default).
	RequestTimeout time.Duration
	// ConnectTimeout bounds the reachability check made before any load;
	// default 3s.
	ConnectTimeout time.Duration
	// Limits are the validity gates; zero fields take DefaultLimits.
	Limits Limits
	// Progress, when set, is called about every ProgressInterval while the
	// warm-up and the measured run go on, from another goroutine.
	Progress         func(Progress)
	ProgressInterval time.Duration // default 500ms
}

// Defaults for Options fields left zero.
const (
	DefaultConnections      = 4
	DefaultDuration         = 10 * time.Second
	DefaultRequestTimeout   = 3 * time.Second
	DefaultConnectTimeout   = 3 * time.Second
	DefaultProgressInterval = 500 * time.Millisecond
)

// The ranges of a run's options: far above a useful run, low enough that
// none exhausts the machine before the first call (fortio allocates each
// connection's buffers and the payload up front: --payload-size
// 99999999999 or --connections 100000000 died of out-of-memory).
const (
	MaxConnections = 10_000
	MaxPayloadSize = 16 << 20 // 16 MiB
	MaxDuration    = 24 * time.Hour
	MaxWarmup      = time.Hour
	MaxTimeout     = time.Hour // a request's or a connection's
)

// withDefaults returns o with every zero optional field set.
func (o Options) withDefaults() Options {
	if o.Protocol == "" {
		o.Protocol = HTTP1
	}
	if o.Connections == 0 {
		o.Connections = DefaultConnections
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ProgressInterval == 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// FieldError names the Options field (as its CLI flag) that is invalid, so a
// command line can report the flag the user typed.
type FieldError struct {
	Field string // "url", "qps", "connections", ...
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports the first invalid field of o (after defaults) as a
// *FieldError.
func (o Options) Validate() error {
	o = o.withDefaults()
	if _, err := ParseTarget(o.URL); err != nil {
		return err
	}
	if _, err := ParseProtocol(string(o.Protocol)); err != nil {
		return fieldErr("protocol", "%v", err)
	}
	if o.Protocol == H2C && strings.HasPrefix(strings.ToLower(o.URL), "https://") {
		return fieldErr("protocol", "h2c is cleartext HTTP/2 and needs an http:// URL")
	}
	switch {
	case o.QPS < 0:
		return fieldErr("qps", "expected a positive rate or max, got %g", o.QPS)
	case o.Connections < 1 || o.Connections > MaxConnections:
		return fieldErr("connections", "expected 1..%d, got %d", MaxConnections, o.Connections)
	case o.Duration < 0 || o.Duration > MaxDuration:
		return fieldErr("duration", "expected a positive duration of at most %v, got %v", MaxDuration, o.Duration)
	case o.Warmup < 0 || o.Warmup > MaxWarmup:
		return fieldErr("warmup", "expected a duration within 0..%v, got %v", MaxWarmup, o.Warmup)
	case o.PayloadSize < 0 || o.PayloadSize > MaxPayloadSize:
		return fieldErr("payload-size", "expected 0..%d bytes (16 MiB), got %d", MaxPayloadSize, o.PayloadSize)
	case o.RequestTimeout < 0 || o.RequestTimeout > MaxTimeout:
		return fieldErr("request-timeout", "expected a positive duration of at most %v, got %v", MaxTimeout, o.RequestTimeout)
	case o.ConnectTimeout < 0 || o.ConnectTimeout > MaxTimeout:
		return fieldErr("connect-timeout", "expected a positive duration of at most %v, got %v", MaxTimeout, o.ConnectTimeout)
	}
	for _, h := range o.Headers {
		name, _, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return fieldErr("header", "expected \"Name: value\", got %q", h)
		}
	}
	if o.QPS > 0 && o.QPS*o.Duration.Seconds() < 2 {
		// fortio would silently stretch the run to make 2 calls.
		return fieldErr("duration", "%v at %g qps makes fewer than 2 calls", o.Duration, o.QPS)
	}
	return o.Limits.validate()
}

// Target is a parsed, checked target URL.
type Target struct {
	URL      *url.URL
	HostPort string // host:port to dial, with the scheme's default port filled in
}

// ParseTarget checks that raw is an absolute http(s) URL with a host and
// returns where to dial.
func ParseTarget(raw string) (Target, error) {
	if raw == "" {
		return Target{}, fieldErr("url", "expected a target URL such as http://127.0.0.1:8080/, got nothing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fieldErr("url", "expected a URL such as http://127.0.0.1:8080/, got %q (%v)", raw, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Target{}, fieldErr("url", "expected an http:// or https:// URL, got %q", raw)
	}
	if u.Hostname() == "" {
		return Target{}, fieldErr("url", "expected a host in %q", raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return Target{URL: u, HostPort: net.JoinHostPort(u.Hostname(), port)}, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
