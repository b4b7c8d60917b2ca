// Package units formats quantities the way every ckpt screen and command
// prints them, so the same snapshot reads the same everywhere.
package units

import "fmt"

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
