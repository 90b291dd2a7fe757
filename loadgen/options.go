package loadgen

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
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
	// means as fast as possible: each connection makes its next call as
	// soon as the last one returns (closed loop, no schedule).
	QPS float64
	// Arrival spaces a fixed-rate run's calls; default Uniform.
	Arrival Arrival
	// Seed seeds a Poisson schedule; 0 picks one at random.
	Seed uint64
	// Connections is the number of concurrent connections. A fixed-rate run
	// hands each due call to an idle connection (open loop), so a slow call
	// delays only itself while another connection is free. 0 means
	// ConnectionsFor(QPS, ExpectedLatency, Arrival) for a fixed rate and
	// DefaultMaxRateConnections for a max-rate run.
	Connections int
	// ExpectedLatency is how long calls may take for a pool sized by
	// default (Connections 0) to carry the rate without queueing; default
	// DefaultExpectedLatency.
	ExpectedLatency time.Duration
	Duration        time.Duration // measured period; default 10s
	// Warmup is a period at the same rate, on the same connections, run
	// just before the measured one and left out of every figure; 0 means
	// none.
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
	// NoRealtime keeps a fixed-rate run's HTTP/1.1 event loops at the
	// process's normal scheduling. By default they run at real-time
	// priority where the process may (see priority_linux.go), so that other
	// processes on their CPU do not delay the calls.
	NoRealtime bool
	// Limits are the validity gates; zero fields take DefaultLimits.
	Limits Limits
	// Progress, when set, is called about every ProgressInterval while the
	// warm-up and the measured run go on, from another goroutine.
	Progress         func(Progress)
	ProgressInterval time.Duration // default 500ms
}

// DefaultWarmup is the warm-up a command line runs before each measured
// run unless told otherwise (Options.Warmup 0 itself means none).
const DefaultWarmup = 2 * time.Second

// Defaults for Options fields left zero.
const (
	DefaultMaxRateConnections = 32
	DefaultDuration           = 10 * time.Second
	DefaultRequestTimeout     = 3 * time.Second
	DefaultConnectTimeout     = 3 * time.Second
	DefaultProgressInterval   = 500 * time.Millisecond
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
	if o.Arrival.Kind == "" {
		o.Arrival.Kind = Uniform
	}
	if o.ExpectedLatency == 0 {
		o.ExpectedLatency = DefaultExpectedLatency
	}
	if o.Connections == 0 {
		o.Connections = DefaultMaxRateConnections
		if o.QPS > 0 {
			o.Connections = ConnectionsFor(o.QPS, o.ExpectedLatency, o.Arrival)
		}
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

// Field identifies an option in a FieldError or a Request's *input.Error,
// in the library's own words; a command line shows it as the flag that set
// it (input.Names).
type Field = input.Field

// The options a FieldError can name.
const (
	FieldURL             Field = "url"
	FieldProtocol        Field = "protocol"
	FieldQPS             Field = "rate"
	FieldArrival         Field = "arrival"
	FieldSeed            Field = "seed"
	FieldConnections     Field = "connections"
	FieldExpectedLatency Field = "expected latency"
	FieldDuration        Field = "duration"
	FieldWarmup          Field = "warm-up"
	FieldPayloadSize     Field = "payload size"
	FieldHeaders         Field = "headers"
	FieldRequestTimeout  Field = "request timeout"
	FieldConnectTimeout  Field = "connect timeout"
	FieldMinAchieved     Field = "minimum achieved ratio"
	FieldMaxErrorRatio   Field = "maximum error ratio"
	FieldMaxBehindRatio  Field = "maximum behind ratio"
	FieldCPUWarnFraction Field = "CPU warning fraction"
	FieldSLOP99          Field = "SLO p99"
	FieldSLOBasis        Field = "SLO basis"
	FieldStartQPS        Field = "start rate"
	FieldMaxQPS          Field = "rate cap"
	FieldMinQPS          Field = "rate floor"
	FieldPrecision       Field = "precision"
	FieldMaxSteps        Field = "step budget"
	FieldMaxTime         Field = "time budget"
	FieldFailRetries     Field = "retries of a failing rate"
	FieldSaveDir         Field = "results directory"
	FieldFindMax         Field = "search"
	FieldLabels          Field = "labels"
	FieldNoRealtime      Field = "normal priority"
)

// FieldError says which option is invalid and what was expected.
type FieldError struct {
	Field Field
	Msg   string // what was expected and what was given, without the field's name
}

func (e *FieldError) Error() string { return string(e.Field) + ": " + e.Msg }

func fieldErr(field Field, format string, args ...any) error {
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
		return fieldErr(FieldProtocol, "%v", err)
	}
	if o.Protocol == H2C && strings.HasPrefix(strings.ToLower(o.URL), "https://") {
		return fieldErr(FieldProtocol, "h2c is cleartext HTTP/2 and needs an http:// URL")
	}
	if err := o.Arrival.validate(); err != nil {
		return err
	}
	switch {
	case o.QPS < 0 || math.IsNaN(o.QPS) || math.IsInf(o.QPS, 0):
		return fieldErr(FieldQPS, "expected a positive rate or max, got %g", o.QPS)
	case o.Connections < 1 || o.Connections > MaxConnections:
		return fieldErr(FieldConnections, "expected 1..%d, got %d", MaxConnections, o.Connections)
	case o.ExpectedLatency < 0 || o.ExpectedLatency > MaxTimeout:
		return fieldErr(FieldExpectedLatency, "expected a positive duration of at most %v, got %v", MaxTimeout, o.ExpectedLatency)
	case o.Duration < 0 || o.Duration > MaxDuration:
		return fieldErr(FieldDuration, "expected a positive duration of at most %v, got %v", MaxDuration, o.Duration)
	case o.Warmup < 0 || o.Warmup > MaxWarmup:
		return fieldErr(FieldWarmup, "expected a duration within 0..%v, got %v", MaxWarmup, o.Warmup)
	case o.PayloadSize < 0 || o.PayloadSize > MaxPayloadSize:
		return fieldErr(FieldPayloadSize, "expected 0..%d bytes (16 MiB), got %d", MaxPayloadSize, o.PayloadSize)
	case o.RequestTimeout < 0 || o.RequestTimeout > MaxTimeout:
		return fieldErr(FieldRequestTimeout, "expected a positive duration of at most %v, got %v", MaxTimeout, o.RequestTimeout)
	case o.ConnectTimeout < 0 || o.ConnectTimeout > MaxTimeout:
		return fieldErr(FieldConnectTimeout, "expected a positive duration of at most %v, got %v", MaxTimeout, o.ConnectTimeout)
	}
	for _, h := range o.Headers {
		name, _, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return fieldErr(FieldHeaders, "expected \"Name: value\", got %q", h)
		}
	}
	if o.QPS > 0 && o.QPS*o.Duration.Seconds() < 2 {
		return fieldErr(FieldDuration, "%v at %g qps makes fewer than 2 calls", o.Duration, o.QPS)
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
		return Target{}, fieldErr(FieldURL, "expected a target URL such as http://127.0.0.1:8080/, got nothing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fieldErr(FieldURL, "expected a URL such as http://127.0.0.1:8080/, got %q (%v)", raw, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Target{}, fieldErr(FieldURL, "expected an http:// or https:// URL, got %q", raw)
	}
	if u.Hostname() == "" {
		return Target{}, fieldErr(FieldURL, "expected a host in %q", raw)
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
