package flinkrest

import (
	"encoding/json"
	"strings"

	"github.com/ckpt-dev/ckpt/cluster"
)

// Shape flattens a JSON document into key path → JSON type ("object",
// "array", "string", "number", "boolean", "null"): what a client relies
// on, without the values. Array elements appear under "key[]" (merged over
// all elements); map keys that are IDs (32 hex) become "*", so two
// responses about different jobs have the same shape. The top level is "".
func Shape(b []byte) map[string]string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return map[string]string{"": "invalid: " + err.Error()}
	}
	out := map[string]string{}
	shapeOf("", v, out)
	return out
}

func shapeOf(prefix string, v any, out map[string]string) {
	join := func(k string) string {
		if cluster.IsJobID(k) {
			k = "*"
		}
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		setType(out, prefix, "object")
		for k, e := range x {
			shapeOf(join(k), e, out)
		}
	case []any:
		setType(out, prefix, "array")
		for _, e := range x {
			shapeOf(prefix+"[]", e, out)
		}
	case string:
		setType(out, prefix, "string")
	case float64:
		setType(out, prefix, "number")
	case bool:
		setType(out, prefix, "boolean")
	case nil:
		if _, ok := out[prefix]; !ok {
			out[prefix] = "null"
		}
	}
}

// setType records a key's type; null and another type merge to that type
// (Flink writes null for absent objects, e.g. latest.savepoint), and a
// percentile sent as a number by one element and as "NaN" by another is a
// number (see IsFlexNumber).
func setType(out map[string]string, k, typ string) {
	if typ == "null" {
		if _, ok := out[k]; ok {
			return
		}
	}
	if prev, ok := out[k]; ok && IsFlexNumber(k) && prev != typ && (prev == "number" || typ == "number") {
		out[k] = "number"
		return
	}
	out[k] = typ
}

// IsFlexNumber reports whether key is a double Flink may write as a number
// or as the string "NaN": a percentile of a StatsSummaryDto (p50 … p999)
// or a vertex's accumulated-busy-time.
func IsFlexNumber(key string) bool {
	i := strings.LastIndexByte(key, '.')
	switch key[i+1:] {
	case "p50", "p90", "p95", "p99", "p999", "accumulated-busy-time":
		return true
	}
	return false
}
