package engine

import (
	"testing"
	"time"
)

func TestBackpressureLevel(t *testing.T) {
	for _, tc := range []struct {
		ratio float64
		want  string
	}{{0, "ok"}, {0.10, "ok"}, {0.11, "low"}, {0.5, "low"}, {0.51, "high"}, {1, "high"}} {
		if got := BackpressureLevel(tc.ratio); got != tc.want {
			t.Errorf("BackpressureLevel(%v) = %s, want %s", tc.ratio, got, tc.want)
		}
	}
}

// The ratio is the blocked share of the time since the previous sample —
// not the cumulative blocked time (17 s → 46 s reads as a rate, not a
// growing number) — measured over at least a second; a counter that
// dropped (a restart) counts as zero.
func TestBackpressureSampler(t *testing.T) {
	var b bpSampler
	t0 := time.Unix(1000, 0)
	k0, k1 := [2]int{0, 0}, [2]int{0, 1}
	b.sample(t0, map[[2]int]time.Duration{k0: 17 * time.Second, k1: 0})
	if r := b.ratio(0, 0); r != 0 {
		t.Errorf("first sample: ratio %v, want 0 (nothing measured yet)", r)
	}
	b.sample(t0.Add(2*time.Second), map[[2]int]time.Duration{k0: 17*time.Second + 1500*time.Millisecond, k1: 100 * time.Millisecond})
	if r0, r1 := b.ratio(0, 0), b.ratio(0, 1); r0 != 0.75 || r1 != 0.05 {
		t.Errorf("ratios %v %v, want 0.75 0.05", r0, r1)
	}
	// Within the window nothing is re-measured.
	b.sample(t0.Add(2500*time.Millisecond), map[[2]int]time.Duration{k0: 40 * time.Second})
	if r := b.ratio(0, 0); r != 0.75 {
		t.Errorf("within the window: ratio %v, want 0.75 kept", r)
	}
	// A restart reset the counter.
	b.sample(t0.Add(4*time.Second), map[[2]int]time.Duration{k0: 0, k1: 100 * time.Millisecond})
	if r := b.ratio(0, 0); r != 0 {
		t.Errorf("after a reset: ratio %v, want 0", r)
	}
	b.reset()
	if r := b.ratio(0, 1); r != 0 {
		t.Errorf("after reset(): ratio %v", r)
	}
}
