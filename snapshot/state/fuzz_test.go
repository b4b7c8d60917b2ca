package state

import "testing"

// The codec never panics and never allocates beyond what its input
// justifies, whatever the bytes: truncations, flips, absurd counts.
func FuzzKeyedProxy(f *testing.F) {
	f.Add(savepointProxy())
	f.Add(timerProxy())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadKeyedProxy(b, "fuzz")
		if err != nil {
			return
		}
		// A proxy that reads must read its region without panicking too.
		ReadUnified(p, 128, 0, b[p.End:], "fuzz", p.End, func(Entry) error { return nil })
		ReadHeap(p, 0, b[p.End:], "fuzz", p.End, func(Entry) error { return nil })
	})
}

func FuzzOperatorProxy(f *testing.F) {
	e := (&enc{}).i32(6).u8(0).u16(1)
	e.meta("source-state", 1, [][2]string{{"OPERATOR_STATE_DISTRIBUTION_MODE", "UNION"}},
		role("VALUE_SERIALIZER", func(e *enc) { e.simple(strSnap) }))
	e.u16(0)
	f.Add(e.b)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadOperatorProxy(b, "fuzz")
		if err != nil || len(p.States) == 0 {
			return
		}
		ReadOperatorState(p, p.States[0], b, []int64{p.End}, "fuzz")
	})
}
