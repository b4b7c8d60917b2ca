package keygroup

import "testing"

func TestMurmurMix(t *testing.T) {
	// The finaliser must fold into [0, MaxInt32] for every input, including
	// the extremes that need the MIN_VALUE special case.
	for _, in := range []int32{0, 1, -1, 42, 1 << 30, -1 << 31, 1<<31 - 1} {
		if got := MurmurMix(in); got < 0 {
			t.Errorf("MurmurMix(%d) = %d, want non-negative", in, got)
		}
	}
	// Deterministic: same input, same output; distinct inputs spread.
	if MurmurMix(7) != MurmurMix(7) || MurmurMix(7) == MurmurMix(8) {
		t.Fatal("MurmurMix not a deterministic spreading hash")
	}
}

func TestRangeFor(t *testing.T) {
	tests := []struct {
		maxP, p, i int
		want       Range
	}{
		{128, 1, 0, Range{0, 127}},
		{128, 2, 0, Range{0, 63}},
		{128, 2, 1, Range{64, 127}},
		{128, 3, 0, Range{0, 42}},
		{128, 3, 1, Range{43, 85}},
		{128, 3, 2, Range{86, 127}},
		{10, 4, 0, Range{0, 2}},
		{10, 4, 1, Range{3, 4}},
		{10, 4, 2, Range{5, 7}},
		{10, 4, 3, Range{8, 9}},
	}
	for _, tt := range tests {
		if got := RangeFor(tt.maxP, tt.p, tt.i); got != tt.want {
			t.Errorf("RangeFor(%d,%d,%d) = %v, want %v", tt.maxP, tt.p, tt.i, got, tt.want)
		}
	}
}

// Every key group is owned by exactly the subtask whose range contains it:
// OperatorIndex and RangeFor must agree for all shapes, or rescaling would
// send a key's state to a subtask that never sees the key.
func TestOperatorIndexAgreesWithRanges(t *testing.T) {
	for _, maxP := range []int{1, 7, 128, 129, 1000, 32768} {
		for _, p := range []int{1, 2, 3, 4, 5, 7, 16, 100} {
			if p > maxP {
				continue
			}
			covered := 0
			for i := 0; i < p; i++ {
				r := RangeFor(maxP, p, i)
				covered += r.Len()
				for _, kg := range []int{r.Start, r.End} {
					if r.Len() == 0 {
						continue
					}
					if got := OperatorIndex(maxP, p, kg); got != i {
						t.Fatalf("maxP=%d p=%d kg=%d: OperatorIndex=%d, range owner %d", maxP, p, kg, got, i)
					}
				}
			}
			if covered != maxP {
				t.Fatalf("maxP=%d p=%d: ranges cover %d key groups", maxP, p, covered)
			}
		}
	}
}

func TestDefaultMaxParallelism(t *testing.T) {
	tests := []struct{ p, want int }{
		{1, 128}, {2, 128}, {85, 128}, {86, 256}, {100, 256}, {1000, 2048}, {30000, 32768},
	}
	for _, tt := range tests {
		if got := DefaultMaxParallelism(tt.p); got != tt.want {
			t.Errorf("DefaultMaxParallelism(%d) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

func TestForHashInRange(t *testing.T) {
	for h := int32(-1000); h < 1000; h++ {
		if kg := ForHash(h, 128); kg < 0 || kg >= 128 {
			t.Fatalf("ForHash(%d) = %d out of range", h, kg)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		p, maxP int
		ok      bool
	}{
		{1, 128, true}, {0, 128, false}, {129, 128, false}, {1, 40000, false}, {4, 4, true},
	}
	for _, tt := range tests {
		if err := Check(tt.p, tt.maxP); (err == nil) != tt.ok {
			t.Errorf("Check(%d,%d) = %v", tt.p, tt.maxP, err)
		}
	}
}
