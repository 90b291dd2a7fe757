package loadgen

import (
	"strings"
	"testing"
)

// feedInPieces feeds raw to a response cut every `every` bytes, as reads
// of a socket would deliver it, and returns the bytes consumed.
func feedInPieces(t *testing.T, r *h1Response, raw string, every int) int {
	t.Helper()
	consumed := 0
	for start := 0; start < len(raw) && !r.done(); start += every {
		piece := raw[start:min(start+every, len(raw))]
		n, err := r.feed([]byte(piece))
		if err != nil {
			t.Fatalf("piece at %d: %v", start, err)
		}
		consumed += n
	}
	return consumed
}

func TestH1ResponseDelimitsBodies(t *testing.T) {
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n"
	for _, tc := range []struct {
		name      string
		raw       string
		code      int
		headerLen int
		keepAlive bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\nok", 200, 44, true},
		{"empty body", "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n", 204, 46, true},
		{"chunked with extension and trailer", chunked, 200, 47, true},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc", 200, 57, false},
		{"teapot counts as success, like fortio", "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 1\r\n\r\nx", 418, 48, true},
	} {
		for _, every := range []int{1, 3, 7, 1 << 20} {
			var r h1Response
			n := feedInPieces(t, &r, tc.raw, every)
			if !r.done() || n != len(tc.raw) || r.size != int64(len(tc.raw)) {
				t.Errorf("%s in pieces of %d: done %v after %d of %d bytes (size %d)", tc.name, every, r.done(), n, len(tc.raw), r.size)
			}
			if r.code != tc.code || r.headerLen != tc.headerLen || r.keepAlive != tc.keepAlive {
				t.Errorf("%s in pieces of %d: code %d header %d keep-alive %v, want %d %d %v",
					tc.name, every, r.code, r.headerLen, r.keepAlive, tc.code, tc.headerLen, tc.keepAlive)
			}
		}
	}
}

func TestH1ResponseStopsAtTheEndOfItsBytes(t *testing.T) {
	var r h1Response
	one := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	n, err := r.feed([]byte(one + "HTTP/1.1 200 OK\r\n"))
	if err != nil || !r.done() || n != len(one) {
		t.Errorf("consumed %d of %d (err %v): the next response's bytes are not this one's", n, len(one), err)
	}
	r.reset()
	if r.done() || r.code != 0 || r.size != 0 || len(r.header) != 0 {
		t.Errorf("reset left %+v", r)
	}
}

func TestH1ResponseFailureCodesStopAtTheStatusLine(t *testing.T) {
	// fortio's fast client reads a non-2xx reply only up to its code, then
	// closes the connection; the figures must match its.
	var r h1Response
	raw := "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 19\r\n\r\nno healthy upstream"
	n := feedInPieces(t, &r, raw, 5)
	if !r.done() || r.code != 503 || r.keepAlive || n != len("HTTP/1.1 503") {
		t.Errorf("503: done %v code %d keep-alive %v consumed %d", r.done(), r.code, r.keepAlive, n)
	}
}

func TestH1ResponseWithoutLengthEndsAtClose(t *testing.T) {
	var r h1Response
	raw := "HTTP/1.0 200 OK\r\nServer: old\r\n\r\n" + strings.Repeat("b", 5000)
	feedInPieces(t, &r, raw, 1000)
	if r.done() || r.keepAlive {
		t.Fatalf("a body without length is done %v, keep-alive %v before the close", r.done(), r.keepAlive)
	}
	if !r.closed() || r.size != int64(len(raw)) {
		t.Errorf("after the close: done %v, size %d of %d", r.done(), r.size, len(raw))
	}
	var cut h1Response
	_, _ = cut.feed([]byte("HTTP/1.1 200 OK\r\nContent-Le"))
	if cut.closed() {
		t.Error("a close in the middle of the headers completed the response")
	}
}

func TestH1ResponseRejectsGarbage(t *testing.T) {
	for _, raw := range []string{
		"SSH-2.0-OpenSSH_9.6\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Long: "+strings.Repeat("a", 1000)+"\r\n", 70),
	} {
		var r h1Response
		if _, err := r.feed([]byte(raw)); err == nil {
			t.Errorf("%.30q... parsed without error (state %d)", raw, r.state)
		}
	}
}
