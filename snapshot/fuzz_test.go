package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: any input either fails with a *DecodeError or decodes to a
// value that re-encodes to exactly the input bytes, and the streaming path
// (unknown size) agrees with the in-memory one. Seeded with every real
// Flink fixture and the kitchen-sink goldens (all versions, all handle
// kinds).
func FuzzDecode(f *testing.F) {
	for _, fx := range fixtures(f) {
		f.Add(readFixture(f, fx))
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "kitchen-sink-v*.metadata"))
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		_, errStream := NewDecoder(bytes.NewReader(b), DecodeOptions{}).Decode()
		if (err == nil) != (errStream == nil) {
			t.Fatalf("known-size error %v, unknown-size error %v", err, errStream)
		}
		if err != nil {
			if !IsDecodeError(err) {
				t.Fatalf("error is %T, not a *DecodeError: %v", err, err)
			}
			return
		}
		enc, err := Marshal(m)
		if err != nil {
			t.Fatalf("decoded but does not re-encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded bytes differ (%d vs %d bytes)", len(enc), len(b))
		}
		m.Properties() // must not panic
	})
}
