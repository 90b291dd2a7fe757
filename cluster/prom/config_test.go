package prom

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
)

func TestConfigCheck(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("t"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 65<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := input.Names{FieldURL: "--prometheus-url", FieldTokenFile: "--prometheus-token-file", FieldQueryTimeout: "--prometheus-timeout"}
	ok := DefaultConfig()
	ok.URL, ok.TokenFile = "https://prom.example:9090", token
	for _, tt := range []struct {
		name  string
		c     Config
		given map[input.Field]bool
		want  string // "" for no problem
	}{
		{"a URL, a token file and the default timeout", ok, nil, ""},
		{"no Prometheus at all", DefaultConfig(), nil, ""},
		{"a token file without a URL", Config{TokenFile: token, QueryTimeout: AnalysisQueryTimeout}, map[input.Field]bool{FieldTokenFile: true},
			"--prometheus-token-file: needs --prometheus-url"},
		{"a timeout without a URL", DefaultConfig(), map[input.Field]bool{FieldQueryTimeout: true}, "--prometheus-timeout: needs --prometheus-url"},
		{"no scheme", Config{URL: "prometheus:9090", QueryTimeout: AnalysisQueryTimeout}, nil, `--prometheus-url: expected an http(s) URL, got "prometheus:9090"`},
		{"no host", Config{URL: "http://", QueryTimeout: AnalysisQueryTimeout}, nil, "--prometheus-url: expected an http(s) URL"},
		{"a missing token file", Config{URL: ok.URL, TokenFile: token + ".none", QueryTimeout: AnalysisQueryTimeout}, nil, "--prometheus-token-file: expected a readable file"},
		{"a directory for the token", Config{URL: ok.URL, TokenFile: filepath.Dir(token), QueryTimeout: AnalysisQueryTimeout}, nil, "--prometheus-token-file: expected a readable file"},
		{"a token of 65 KiB", Config{URL: ok.URL, TokenFile: big, QueryTimeout: AnalysisQueryTimeout}, nil, "--prometheus-token-file: expected a readable file: " + big + ": too large: more than 64 KiB"},
		{"a zero timeout", Config{URL: ok.URL}, nil, "--prometheus-timeout: expected a duration > 0 and at most 1h, such as 2m, got 0s"},
		{"a timeout of a day", Config{URL: ok.URL, QueryTimeout: 24 * time.Hour}, nil, "--prometheus-timeout: expected a duration > 0 and at most 1h"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Check(tt.given, flags)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected problem: %v", err)
				}
				return
			}
			var bad *input.Error
			if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want an input error starting %q", err, tt.want)
			}
		})
	}
	// Without names the problems speak the library's words.
	if err := (Config{URL: "ftp://x"}).Check(nil, nil); err == nil || !strings.HasPrefix(err.Error(), "Prometheus URL: ") {
		t.Errorf("library words: %v", err)
	}
	if c, err := ok.Connect(flags); err != nil || c.URL() != ok.URL {
		t.Errorf("Connect: %v, %v", c, err)
	}
}
