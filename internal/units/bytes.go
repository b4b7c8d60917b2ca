// Package units formats quantities the way every ckpt screen and command
// prints them, so the same snapshot reads the same everywhere, and reads
// them back as operators write them (ParseBytes).
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bytes formats a byte count in binary units with three significant digits,
// as the README's screens show: "0 B", "512 B", "1.50 KiB", "98.3 MiB",
// "256 KiB". Negative means unknown: "—".
func Bytes(n int64) string {
	if n < 0 {
		return "—"
	}
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	// Rounding can reach the next unit's threshold (1023.9 KiB prints as
	// "1024 KiB" with %.0f): say "1.00 MiB" instead.
	if v >= 999.5 && u < len(units)-1 {
		v /= 1024
		u++
	}
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f %s", v, units[u])
	case v < 99.95:
		return fmt.Sprintf("%.1f %s", v, units[u])
	default:
		return fmt.Sprintf("%.0f %s", v, units[u])
	}
}

// SignedBytes is a size change: "+1.50 KiB", "-300 B", "+0 B".
func SignedBytes(n int64) string {
	if n < 0 {
		return "-" + Bytes(-n)
	}
	return "+" + Bytes(n)
}

// ParseBytes reads a size as operators write it: a number with an
// optional unit, binary (KiB, MiB, GiB, TiB) or decimal (kB, MB, GB, TB),
// B or none for bytes; "1.5GiB", "512 MiB", "100mb".
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || v < 0 {
		return 0, fmt.Errorf("%q is not a size (e.g. 512MiB, 1GiB, 100MB)", s)
	}
	mult := map[string]float64{"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
	m, ok := mult[unit]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)", s, t[i:])
	}
	if v*m > math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v * m), nil
}
