package profiles

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// The ranges of a profile's figures, by the field's path in the file
// ("[]" stands for every entry of a list). A figure outside its range is a
// typo or a hostile file, and would size a sidecar at absurd or infinite
// values: Parse refuses it. Every number without a range of its own, in
// this schema or a later one, must still be finite and within
// ±MaxMagnitude, so that products of two figures stay finite.
var ranges = map[string]bound{
	"provenance.workers":                        {0, MaxWorkers, "workers"},
	"cpu.idle_cores":                            {0, MaxCores, "cores"},
	"cpu.cores_per_krps":                        {1e-6, MaxCores, "cores"},
	"cpu.max_rps_per_core":                      {0, MaxRPS, "RPS"},
	"cpu.by_concurrency[].concurrency":          {1, MaxWorkers, "workers"},
	"cpu.by_concurrency[].cpu_limit_millicores": {0, MaxCores * 1000, "millicores"},
	"cpu.by_concurrency[].idle_cores":           {0, MaxCores, "cores"},
	"cpu.by_concurrency[].cores_per_krps":       {1e-6, MaxCores, "cores"},
	"cpu.by_concurrency[].max_rps":              {0, MaxRPS, "RPS"},
	"cpu.by_concurrency[].throttling_from_rps":  {0, MaxRPS, "RPS"},
	"cpu.by_concurrency[].r2":                   {-MaxMagnitude, 1, ""},
	"memory.base_bytes":                         {0, MaxMemoryBytes, "bytes"},
	"memory.per_cluster_bytes":                  {0, MaxMemoryBytes, "bytes"},
	"memory.per_endpoint_bytes":                 {0, MaxMemoryBytes, "bytes"},
	"memory.per_worker_bytes":                   {0, MaxMemoryBytes, "bytes"},
	"memory.per_worker_per_cluster_bytes":       {0, MaxMemoryBytes, "bytes"},
	"latency_added_ms.p50":                      {0, MaxLatencyMs, "ms"},
	"latency_added_ms.p90":                      {0, MaxLatencyMs, "ms"},
	"latency_added_ms.p99":                      {0, MaxLatencyMs, "ms"},
}

// The limits the ranges are made of: far above any proxy (Envoy runs one
// worker per core; the largest nodes have a few hundred cores), low enough
// that no product of them overflows.
const (
	MaxWorkers     = 1024
	MaxCores       = 1000
	MaxRPS         = 1e9
	MaxMemoryBytes = 1 << 40 // 1 TiB
	MaxLatencyMs   = 1e6     // 1000 s
	MaxMagnitude   = 1e15
)

type bound struct {
	min, max float64
	unit     string
}

func (b bound) String() string {
	s := fmt.Sprintf("%s..%s", num(b.min), num(b.max))
	if b.unit != "" {
		s += " " + b.unit
	}
	return s
}

func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e12 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%g", x)
}

// checkRanges walks every number of p by its path in the file.
func checkRanges(p Profile) error {
	return walk(reflect.ValueOf(p), "", "")
}

// walk visits v, whose path is pattern (lists as "[]") and shown (lists
// with the index).
func walk(v reflect.Value, pattern, shown string) error {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p, s := pattern, shown
			if name != "" || !f.Anonymous {
				if name == "" {
					name = f.Name
				}
				p, s = join(pattern, name), join(shown, name)
			}
			if err := walk(v.Field(i), p, s); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walk(v.Index(i), pattern+"[]", fmt.Sprintf("%s[%d]", shown, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if err := walk(iter.Value(), join(pattern, key), join(shown, key)); err != nil {
				return err
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walk(v.Elem(), pattern, shown)
		}
	case reflect.Float32, reflect.Float64:
		return checkNumber(v.Float(), pattern, shown)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return checkNumber(float64(v.Int()), pattern, shown)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return checkNumber(float64(v.Uint()), pattern, shown)
	}
	return nil
}

func checkNumber(x float64, pattern, shown string) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("%s must be a finite number, got %v", shown, x)
	}
	b, ok := ranges[pattern]
	if !ok {
		b = bound{-MaxMagnitude, MaxMagnitude, ""}
	}
	if x < b.min || x > b.max {
		return fmt.Errorf("%s must be within %s, got %v", shown, b, x)
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
