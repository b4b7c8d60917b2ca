package snapshot

import (
	"testing"
	"time"
)

// The rate and ETA every copy progress shows (ckpt cp's line, the TUI's
// bar): unknown until a byte is copied, then bytes so far over time.
func TestCopyProgressRate(t *testing.T) {
	tests := []struct {
		p       CopyProgress
		elapsed time.Duration
		rate    float64
		eta     time.Duration
		ok      bool
	}{
		{CopyProgress{Bytes: 100}, time.Second, 0, 0, false},
		{CopyProgress{Bytes: 100, BytesDone: 10}, 0, 0, 0, false},
		{CopyProgress{Bytes: 100, BytesDone: 25}, 5 * time.Second, 5, 15 * time.Second, true},
		{CopyProgress{Bytes: 100, BytesDone: 100}, 2 * time.Second, 50, 0, true},
	}
	for _, tc := range tests {
		rate, eta, ok := tc.p.Rate(tc.elapsed)
		if rate != tc.rate || eta != tc.eta || ok != tc.ok {
			t.Errorf("%+v after %v: %v/s, ETA %v, %v; want %v/s, %v, %v", tc.p, tc.elapsed, rate, eta, ok, tc.rate, tc.eta, tc.ok)
		}
	}
}
