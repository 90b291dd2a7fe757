package local

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/internal/promtext"
)

var statsClient = &http.Client{Timeout: 3 * time.Second}

func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// The Prometheus text helpers the proxies' counters are read with, shared
// with the Kubernetes backend (package promtext).
var (
	ParsePrometheus  = promtext.Parse
	SumCounter       = promtext.Sum
	SumCounterPrefix = promtext.SumPrefix
)

// ParseStubStatus reads nginx's stub_status page:
//
//	Active connections: 2
//	server accepts handled requests
//	 16 16 31
//	Reading: 0 Writing: 1 Waiting: 1
//
// and returns the total requests.
func ParseStubStatus(text []byte) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(string(text)))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "server accepts handled requests" {
			continue
		}
		if !sc.Scan() {
			break
		}
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			break
		}
		return strconv.ParseInt(fields[2], 10, 64)
	}
	return 0, fmt.Errorf("not an nginx stub_status page: %q", firstLine(text))
}
