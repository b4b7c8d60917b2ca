package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationUnits are the unit spellings Flink's TimeUtils accepts.
var durationUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"min": time.Minute, "m": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"µs": time.Microsecond, "us": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
}

// ParseDuration reads a duration the way Flink does: an integer, optional
// spaces, an optional unit ("1 s", "500ms", "1 min", "2 h"); a bare number is
// milliseconds. Go's own spelling ("1m30s") is accepted too.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty duration")
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("duration %q: must start with a number (e.g. \"1 s\", \"500 ms\", \"1 min\")", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %v", s, err)
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	if unit == "" {
		return time.Duration(n) * time.Millisecond, nil
	}
	if u, ok := durationUnits[unit]; ok {
		if n > int64(1<<63-1)/int64(u) {
			return 0, fmt.Errorf("duration %q: too large", s)
		}
		return time.Duration(n) * u, nil
	}
	if d, err := time.ParseDuration(strings.ReplaceAll(t, " ", "")); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("duration %q: unknown unit %q (use ms, s, min, h, d)", s, unit)
}

// FormatDuration writes d the way Flink's config docs do ("1 s", "10 min").
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0 ms"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%d ms", d/time.Millisecond)
	}
	return d.String()
}
