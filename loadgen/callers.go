package loadgen

import (
	"context"
	"fmt"
	"strings"

	"fortio.org/fortio/fgrpc"
	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/stats"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// caller makes calls over one connection of its own, with fortio's
// clients, and keeps the protocol's own figures (status codes, sizes) for
// fortio's result. It is used by one goroutine at a time.
type caller interface {
	// call makes one call and says whether it succeeded.
	call(ctx context.Context) bool
	// reset drops the figures kept so far (after the warm-up).
	reset()
	close()
}

// httpCaller is fortio's fast HTTP/1.1 client, or its standard-library
// client with an HTTP/2 transport for h2c: one connection each.
type httpCaller struct {
	client      fhttp.Fetcher
	codes       map[int]int64
	sizes       *stats.Histogram
	headerSizes *stats.Histogram
}

// newHTTPOptions is fortio's client configuration for o (shared by every
// connection of the run, as fortio's own runner shares it).
func newHTTPOptions(o Options) (*fhttp.HTTPOptions, error) {
	ho := &fhttp.HTTPOptions{URL: o.URL, HTTPReqTimeOut: o.RequestTimeout, Resolution: histogramResolution}
	if o.Protocol == H2C {
		ho.H2 = true
		ho.DisableFastClient = true // fortio's fast client speaks HTTP/1.x only
	}
	if o.PayloadSize > 0 {
		ho.Payload = payload(o.PayloadSize)
	}
	for _, h := range o.Headers {
		if err := ho.AddAndValidateExtraHeader(h); err != nil {
			return nil, fieldErr(FieldHeaders, "%v", err)
		}
	}
	return ho.Init(o.URL), nil
}

func newHTTPCaller(ho *fhttp.HTTPOptions, id int) (*httpCaller, error) {
	ho.ID = id // fortio's clients log with it
	client, err := fhttp.NewClient(ho)
	if err != nil {
		return nil, fmt.Errorf("fortio http client: %w", err)
	}
	c := &httpCaller{client: client}
	c.reset()
	return c, nil
}

func (c *httpCaller) call(ctx context.Context) bool {
	code, size, headerSize := c.client.StreamFetch(ctx)
	c.codes[code]++
	record(c.sizes, float64(size))
	record(c.headerSizes, float64(headerSize))
	// fortio's success rule (fhttp.codeIsOK).
	return (code >= 200 && code <= 299) || code == 418
}

func (c *httpCaller) reset() {
	// The buckets fortio's runner uses for sizes: 100 bytes, 5 bytes.
	c.codes, c.sizes, c.headerSizes = map[int]int64{}, stats.NewHistogram(0, 100), stats.NewHistogram(0, 5)
}

func (c *httpCaller) close() { c.client.Close() }

// grpcCaller calls fortio's ping service over one gRPC connection.
type grpcCaller struct {
	conn   *grpc.ClientConn
	client fgrpc.PingServerClient
	req    *fgrpc.PingMessage
	md     metadata.MD
	codes  map[string]int64
}

// grpcServing is what fortio's gRPC runner counts a successful call as
// (grpc_health_v1.HealthCheckResponse_SERVING).
const grpcServing = "SERVING"

func newGRPCCaller(o Options, id int) (*grpcCaller, error) {
	target, err := ParseTarget(o.URL)
	if err != nil {
		return nil, err
	}
	dest := target.HostPort // fortio treats a bare host:port as plaintext
	if target.URL.Scheme == "https" {
		dest = "https://" + target.HostPort
	}
	conn, err := fgrpc.Dial(&fgrpc.GRPCRunnerOptions{Destination: dest})
	if err != nil {
		return nil, fmt.Errorf("fortio grpc dial: %w", err)
	}
	md := metadata.MD{}
	for _, h := range o.Headers {
		name, value, _ := strings.Cut(h, ":")
		md.Append(strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	return &grpcCaller{conn: conn, client: fgrpc.NewPingServerClient(conn), md: md, codes: map[string]int64{},
		req: &fgrpc.PingMessage{Payload: string(payload(o.PayloadSize)), Seq: int64(id)}}, nil
}

func (c *grpcCaller) call(ctx context.Context) bool {
	if len(c.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, c.md)
	}
	if _, err := c.client.Ping(ctx, c.req); err != nil {
		c.codes[fgrpc.Error]++
		return false
	}
	c.codes[grpcServing]++
	return true
}

func (c *grpcCaller) reset() { c.codes = map[string]int64{} }
func (c *grpcCaller) close() { c.conn.Close() }

// payload is n printable bytes (valid UTF-8, so it also fits a gRPC string).
func payload(n int) []byte {
	const pattern = "proxysizer-load-payload-"
	if n <= 0 {
		return nil
	}
	return []byte(strings.Repeat(pattern, n/len(pattern)+1)[:n])
}
