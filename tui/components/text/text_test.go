package text

import (
	"testing"
	"time"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"chk-42", "chk-42"},
		{"evil\x1b]52;c;aGk=\x07name", `evil\x1b]52;c;aGk=\x07name`},
		{"a\rb\nc", `a\x0db\x0ac`},
		{"tab\there", "tab here"},
		{"del\x7f", `del\x7f`},
		{"c1\u009bx", `c1\x9bx`},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"txt.\u202eexe", `txt.\u{202e}exe`},
		{"日本語", "日本語"},
	}
	for _, tc := range tests {
		if got := Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFitMeasuresCells(t *testing.T) {
	tests := []struct {
		in   string
		w    int
		fit  string
		left string
		righ string
	}{
		{"abc", 5, "abc  ", "abc  ", "  abc"},
		{"abcdef", 4, "abc…", "…def", "abc…"},
		{"日本語", 4, "日… ", "…語 ", "日…"}, // wide runes take two cells each
		{"日本語", 6, "日本語", "日本語", "日本語"},
		{"x", 0, "", "", ""},
	}
	for _, tc := range tests {
		if got := Fit(tc.in, tc.w); got != tc.fit {
			t.Errorf("Fit(%q,%d) = %q, want %q", tc.in, tc.w, got, tc.fit)
		}
		if got := FitLeft(tc.in, tc.w); got != tc.left {
			t.Errorf("FitLeft(%q,%d) = %q, want %q", tc.in, tc.w, got, tc.left)
		}
		if got := FitRight(tc.in, tc.w); got != tc.righ {
			t.Errorf("FitRight(%q,%d) = %q, want %q", tc.in, tc.w, got, tc.righ)
		}
		if tc.w > 0 && Width(Fit(tc.in, tc.w)) != tc.w {
			t.Errorf("Fit(%q,%d) is %d cells", tc.in, tc.w, Width(Fit(tc.in, tc.w)))
		}
	}
}

func TestBytesAgeCount(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{-1, "—"}, {0, "0 B"}, {1023, "1023 B"}, {1536, "1.50 KiB"}, {100 << 20, "100 MiB"}, {15 << 30, "15.0 GiB"}} {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	now := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{5 * time.Second, "5s"}, {3 * time.Minute, "3m"}, {5 * time.Hour, "5h"}, {72 * time.Hour, "3d"}, {-time.Hour, "0s"}} {
		if got := Age(now, now.Add(-tc.d)); got != tc.want {
			t.Errorf("Age(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if Age(now, time.Time{}) != "—" {
		t.Error("zero time should be unknown")
	}
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {100000, "100,000"}, {1234567, "1,234,567"}, {-1500, "-1,500"}} {
		if got := Count(tc.n); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		args []string
		want string
	}{
		{0, []string{"job"}, "0 jobs"},
		{1, []string{"job"}, "1 job"},
		{2, []string{"operator"}, "2 operators"},
		{1200, []string{"entry", "entries"}, "1,200 entries"},
		{1, []string{"job runs", "jobs run"}, "1 job runs"},
		{3, []string{"job runs", "jobs run"}, "3 jobs run"},
	}
	for _, tt := range tests {
		if got := Plural(tt.n, tt.args[0], tt.args[1:]...); got != tt.want {
			t.Errorf("Plural(%d, %q) = %q, want %q", tt.n, tt.args, got, tt.want)
		}
	}
}
