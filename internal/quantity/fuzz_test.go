package quantity

import "testing"

// FuzzParseMillicores: no text makes the parser panic; what it accepts is
// within 1m..MaxMillicores and reads back the same from how Millicores
// writes it.
func FuzzParseMillicores(f *testing.F) {
	for _, seed := range []string{"1", "500m", "1.5", "1Ei", "1e20", "9223372036854775807", "9223372036854775807m", "0.0001", "-1", "0",
		"1k", "1000", "1000001m", "NaN", "+Inf", "1..5", "1e-20", "0x10", "1E", "100Mi", "", " 1", "1 "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMillicores(s)
		if err != nil {
			return
		}
		if m < 1 || m > MaxMillicores {
			t.Fatalf("ParseMillicores(%q) = %d, outside 1..%d", s, m, MaxMillicores)
		}
		back, err := ParseMillicores(Millicores(m))
		if err != nil || back != m {
			t.Fatalf("ParseMillicores(Millicores(%d) = %q) = %d, %v", m, Millicores(m), back, err)
		}
	})
}
