// Package promtext reads Prometheus text exposition (Envoy's
// /stats/prometheus, haproxy's exporter) with the Prometheus library's own
// parser, and sums the samples of a family: the one place the local and the
// Kubernetes backends read proxy counters from.
package promtext

import (
	"bytes"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one exposition, by name.
type Families = map[string]*dto.MetricFamily

// Parse parses Prometheus text exposition.
func Parse(text []byte) (Families, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(bytes.NewReader(text))
}

// Sum adds up the counter, untyped or gauge samples of family name whose
// labels include every pair in match; ok is false when no sample matched.
func Sum(families Families, name string, match map[string]string) (total int64, ok bool) {
	return sumWhere(families, name, func(labels []*dto.LabelPair) bool { return labelsMatch(labels, match) })
}

// SumPrefix is Sum for the samples whose label's value starts with prefix,
// e.g. Istio's HCM stat prefixes: inbound_0.0.0.0_8080 and
// outbound_0.0.0.0_8080 vary by port and address, their first word does not.
func SumPrefix(families Families, name, label, prefix string) (total int64, ok bool) {
	return sumWhere(families, name, func(labels []*dto.LabelPair) bool {
		for _, l := range labels {
			if l.GetName() == label && strings.HasPrefix(l.GetValue(), prefix) {
				return true
			}
		}
		return false
	})
}

func sumWhere(families Families, name string, keep func([]*dto.LabelPair) bool) (int64, bool) {
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
