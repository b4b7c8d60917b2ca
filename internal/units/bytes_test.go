package units

import (
	"math"
	"testing"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{-1, "—"},
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1.00 KiB"},
		{1536, "1.50 KiB"},
		{6 * 1024, "6.00 KiB"},
		{7741, "7.56 KiB"},
		{10 * 1024, "10.0 KiB"},
		{99*1024 + 1000, "100 KiB"}, // 99.98 KiB rounds up a digit: no "100.0"
		{256 * 1024, "256 KiB"},
		{1023 * 1024, "1.00 MiB"}, // 1023 KiB would round to four digits
		{1 << 20, "1.00 MiB"},
		{2422210, "2.31 MiB"},
		{40.5 * (1 << 20), "40.5 MiB"},
		{1 << 30, "1.00 GiB"},
		{1 << 40, "1.00 TiB"},
		{math.MaxInt64, "8.00 EiB"},
	}
	for _, tt := range tests {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestSignedBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "+0 B"},
		{300, "+300 B"},
		{-300, "-300 B"},
		{-1536, "-1.50 KiB"},
	}
	for _, tt := range tests {
		if got := SignedBytes(tt.n); got != tt.want {
			t.Errorf("SignedBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "1GiB": 1 << 30, "1.5 GiB": 3 << 29, "512MiB": 512 << 20, "100MB": 100e6, "2k": 2048, "7 B": 7} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1GiB", "1 parsec", "1e30TiB"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q): want an error", bad)
		}
	}
}
