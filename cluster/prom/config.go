package prom

import (
	"net/url"
	"time"

	"github.com/prometheus/common/model"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/safefile"
)

// The inputs of a Config, as its problems name them.
const (
	FieldURL          input.Field = "Prometheus URL"
	FieldTokenFile    input.Field = "Prometheus token file"
	FieldQueryTimeout input.Field = "Prometheus query timeout"
)

// AnalysisQueryTimeout bounds one query of the commands that read days of
// history (the fleet queries, a replay's ranges): Prometheus' own default
// --query.timeout, where DefaultQueryTimeout suits a sweep's short reads.
const AnalysisQueryTimeout = 2 * time.Minute

// MaxQueryTimeout bounds a query's timeout: an hour, beyond any query the
// tool sends (Prometheus' own default is 2 minutes).
const MaxQueryTimeout = time.Hour

// DefaultConfig is a Config for reading history: no Prometheus yet, and
// AnalysisQueryTimeout.
func DefaultConfig() Config { return Config{QueryTimeout: AnalysisQueryTimeout} }

// Connect builds the client of a configuration that Check accepted; a URL
// it cannot use is an *input.Error named through n.
func (c Config) Connect(n input.Names) (*Client, error) {
	client, err := New(c)
	if err != nil {
		return nil, n.Errorf(FieldURL, "%v", err)
	}
	return client, nil
}

// Check checks the configuration's form, not whether Prometheus answers:
// an http(s) URL, a token file that is a regular file of bounded size, a
// query timeout > 0 and at most MaxQueryTimeout. An
// empty URL is no Prometheus, and then a token file or a timeout given
// (given) is a problem. Each problem is an *input.Error named through n.
func (c Config) Check(given map[input.Field]bool, n input.Names) error {
	if c.URL == "" {
		for _, f := range []input.Field{FieldTokenFile, FieldQueryTimeout} {
			if given[f] {
				return n.Errorf(f, "needs %s", FieldURL)
			}
		}
		return nil
	}
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return n.Errorf(FieldURL, "expected an http(s) URL, got %q", c.URL)
	}
	if c.TokenFile != "" {
		if err := safefile.CheckReadable(c.TokenFile, safefile.MaxToken); err != nil {
			return n.Errorf(FieldTokenFile, "expected a readable file: %v", err)
		}
	}
	if c.QueryTimeout <= 0 || c.QueryTimeout > MaxQueryTimeout {
		return n.Errorf(FieldQueryTimeout, "expected a duration > 0 and at most %s, such as 2m, got %s", model.Duration(MaxQueryTimeout), c.QueryTimeout)
	}
	return nil
}
