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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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

// ParsePrometheus parses Prometheus text exposition (haproxy's exporter,
// Envoy's /stats/prometheus) with the Prometheus library's own parser.
func ParsePrometheus(text []byte) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(strings.NewReader(string(text)))
}

// SumCounter adds up the samples of a counter (or untyped) family whose
// labels include every pair in match.
func SumCounter(families map[string]*dto.MetricFamily, name string, match map[string]string) (int64, bool) {
	return sumWhere(families, name, func(labels []*dto.LabelPair) bool { return labelsMatch(labels, match) })
}

// sumWhere adds up the counter, untyped or gauge samples of a family whose
// labels keep accepts.
func sumWhere(families map[string]*dto.MetricFamily, name string, keep func([]*dto.LabelPair) bool) (int64, bool) {
	fam, ok := families[name]
	if !ok {
		return 0, false
	}
	var total float64
	found := false
	for _, m := range fam.GetMetric() {
		if !keep(m.GetLabel()) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		default:
			continue
		}
		found = true
	}
	return int64(total), found
}

func labelsMatch(labels []*dto.LabelPair, match map[string]string) bool {
	for k, v := range match {
		ok := false
		for _, l := range labels {
			if l.GetName() == k && l.GetValue() == v {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

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

// SumCounterPrefix is SumCounter for the samples whose label's value starts
// with prefix, e.g. Istio's HCM stat prefixes: inbound_0.0.0.0_8080 and
// outbound_0.0.0.0_8080 vary by port and address, their first word does not.
func SumCounterPrefix(families map[string]*dto.MetricFamily, name, label, prefix string) (int64, bool) {
	return sumWhere(families, name, func(labels []*dto.LabelPair) bool {
		for _, l := range labels {
			if l.GetName() == label && strings.HasPrefix(l.GetValue(), prefix) {
				return true
			}
		}
		return false
	})
}
