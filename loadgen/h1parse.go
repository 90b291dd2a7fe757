package loadgen

import (
	"bytes"
	"errors"

	"fortio.org/fortio/fhttp"
)

// h1Response reads one HTTP/1.1 response as its bytes arrive, the way
// fortio's fast client does (fhttp.FastClient.readResponse): the status
// code from the status line; for a 2xx (or 418) the body by Content-Length,
// chunked encoding, or until the server closes; for any other code it stops
// at the status line and the connection is closed, as fortio's does. It
// keeps no body bytes, only counts them.
type h1Response struct {
	header    []byte // the status line and headers so far
	state     h1State
	code      int
	headerLen int
	size      int64 // bytes of this response consumed
	remaining int64 // body or chunk bytes still to come
	line      []byte
	keepAlive bool
}

type h1State int

const (
	h1Header h1State = iota
	h1Body
	h1ChunkSize
	h1ChunkData
	h1ChunkEnd
	h1Trailer
	h1UntilClose
	h1Done
)

// The headers fortio's client looks for (fhttp's contentLengthHeader,
// chunkedHeader, connectionCloseHeader), matched case-insensitively at the
// start of a header line.
var (
	contentLengthHeader   = []byte("content-length:")
	chunkedHeader         = []byte("transfer-encoding: chunked")
	connectionCloseHeader = []byte("connection: close")
	headerEnd             = []byte("\r\n\r\n")
)

// maxHeaderBytes bounds a response's status line and headers (fortio's
// client buffers 128 KiB for headers and body together).
const maxHeaderBytes = 64 << 10

// retcodeOffset is where the status code starts: after "HTTP/1.x ".
const retcodeOffset = len("HTTP/1.x ")

var errBadResponse = errors.New("malformed HTTP/1.1 response")

func (r *h1Response) reset() {
	*r = h1Response{header: r.header[:0], line: r.line[:0]}
}

// done reports whether the response is complete.
func (r *h1Response) done() bool { return r.state == h1Done }

// feed consumes bytes read from the connection and returns how many belong
// to this response. Bytes after a complete response are not consumed.
func (r *h1Response) feed(b []byte) (int, error) {
	n := 0
	for n < len(b) && r.state != h1Done {
		used, err := r.step(b[n:])
		n += used
		r.size += int64(used)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// closed tells the response that the server closed the connection; it
// returns whether the response was complete (a body read until close).
func (r *h1Response) closed() bool {
	if r.state == h1UntilClose && r.headerLen > 0 {
		r.state = h1Done
	}
	return r.state == h1Done
}

func (r *h1Response) step(b []byte) (int, error) {
	switch r.state {
	case h1Header:
		return r.readHeader(b)
	case h1Body, h1ChunkData:
		n := int(min(int64(len(b)), r.remaining))
		r.remaining -= int64(n)
		switch {
		case r.remaining > 0:
		case r.state == h1Body:
			r.state = h1Done
		default:
			r.state, r.remaining = h1ChunkEnd, 2 // the chunk's CRLF
		}
		return n, nil
	case h1ChunkEnd:
		n := int(min(int64(len(b)), r.remaining))
		r.remaining -= int64(n)
		if r.remaining == 0 {
			r.state = h1ChunkSize
		}
		return n, nil
	case h1ChunkSize, h1Trailer:
		return r.readLine(b)
	case h1UntilClose:
		return len(b), nil
	}
	return 0, nil
}

func (r *h1Response) readHeader(b []byte) (int, error) {
	from := max(len(r.header)-len(headerEnd)+1, 0)
	r.header = append(r.header, b...)
	if r.code == 0 && len(r.header) >= retcodeOffset+3 {
		r.code = int(fhttp.ParseDecimal(r.header[retcodeOffset : retcodeOffset+3]))
		if !bytes.HasPrefix(r.header, []byte("HTTP/1.")) || r.code < 100 {
			return len(b), errBadResponse
		}
		if !h1Success(r.code) { // fortio stops here and closes the connection
			used := retcodeOffset + 3 - (len(r.header) - len(b))
			r.header = r.header[:retcodeOffset+3]
			r.state, r.keepAlive = h1Done, false
			return max(used, 0), nil
		}
	}
	end := bytes.Index(r.header[from:], headerEnd)
	if end < 0 {
		if len(r.header) > maxHeaderBytes {
			return len(b), errBadResponse
		}
		return len(b), nil
	}
	r.headerLen = from + end + len(headerEnd)
	used := r.headerLen - (len(r.header) - len(b))
	r.header = r.header[:r.headerLen]
	r.body()
	return used, nil
}

// body picks how the body is delimited, from the complete headers, in one
// pass over the header lines: Content-Length, else chunked, else until the
// server closes; "Connection: close" ends the keep-alive.
func (r *h1Response) body() {
	r.keepAlive = true
	length, chunked := int64(-1), false
	lines := r.header[:r.headerLen-2] // without the empty line
	if nl := bytes.IndexByte(lines, '\n'); nl >= 0 {
		lines = lines[nl+1:] // after the status line
	}
	for len(lines) > 0 {
		line := lines
		if nl := bytes.IndexByte(lines, '\n'); nl >= 0 {
			line, lines = lines[:nl], lines[nl+1:]
		} else {
			lines = nil
		}
		switch c := line[0] | 0x20; {
		case c == 'c' && hasPrefixFold(line, contentLengthHeader):
			length = fhttp.ParseDecimal(line[len(contentLengthHeader):])
		case c == 't' && hasPrefixFold(line, chunkedHeader):
			chunked = true
		case c == 'c' && hasPrefixFold(line, connectionCloseHeader):
			r.keepAlive = false
		}
	}
	switch {
	case length == 0:
		r.state = h1Done
	case length > 0:
		r.state, r.remaining = h1Body, length
	case chunked:
		r.state = h1ChunkSize
	default:
		r.state, r.keepAlive = h1UntilClose, false // no length: the body ends when the server closes
	}
}

func hasPrefixFold(line, prefix []byte) bool {
	return len(line) >= len(prefix) && bytes.EqualFold(line[:len(prefix)], prefix)
}

// readLine reads a chunk-size line or a trailer line.
func (r *h1Response) readLine(b []byte) (int, error) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		r.line = append(r.line, b...)
		if len(r.line) > maxHeaderBytes {
			return len(b), errBadResponse
		}
		return len(b), nil
	}
	line := bytes.TrimRight(append(r.line, b[:nl]...), "\r")
	r.line = r.line[:0]
	if r.state == h1Trailer {
		if len(line) == 0 {
			r.state = h1Done
		}
		return nl + 1, nil
	}
	size, ok := parseChunkSize(line)
	switch {
	case !ok:
		return nl + 1, errBadResponse
	case size == 0:
		r.state = h1Trailer
	default:
		r.state, r.remaining = h1ChunkData, size
	}
	return nl + 1, nil
}

// parseChunkSize reads a chunk-size line's hexadecimal size (extensions
// after ';' ignored).
func parseChunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var size int64
	for _, c := range line {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		size = size<<4 | int64(d)
	}
	return size, true
}

// h1Success is fortio's success rule (fhttp.codeIsOK).
func h1Success(code int) bool { return (code >= 200 && code <= 299) || code == 418 }
