package quantity

import "testing"

func TestParseMillicoresRange(t *testing.T) {
	good := map[string]int64{"1": 1000, "500m": 500, "1.5": 1500, "0.0001": 1, "1000": MaxMillicores, "1k": MaxMillicores, "1000000m": MaxMillicores}
	for s, want := range good {
		if got, err := ParseMillicores(s); err != nil || got != want {
			t.Errorf("ParseMillicores(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"1Ei", "9223372036854775807", "1001", "1000001m", "1e20", "0", "-1", "0m", "", "abc", "1Ki", "NaN", "Inf", "1..5"} {
		if got, err := ParseMillicores(s); err == nil {
			t.Errorf("ParseMillicores(%q) = %d, want an error", s, got)
		}
	}
}
