package snapshot

import (
	"bytes"
	"strings"
	"testing"
)

// The trailers of the V4 fixtures, located by their Java serialization
// header (the codec tests check the same offsets through a full decode).
func fixtureTrailers(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range fixtures(t) {
		b := readFixture(t, f)
		if b[7] != 4 {
			continue
		}
		i := bytes.LastIndex(b, []byte{0xAC, 0xED, 0x00, 0x05})
		if i < 0 {
			t.Fatalf("%s: V4 file without a trailer", f.name)
		}
		out[f.name] = b[i:]
	}
	if len(out) < 10 {
		t.Fatalf("only %d V4 fixtures", len(out))
	}
	return out
}

func TestPropertiesFixtures(t *testing.T) {
	for name, tr := range fixtureTrailers(t) {
		t.Run(name, func(t *testing.T) {
			p, err := ParseProperties(tr)
			if err != nil {
				t.Fatal(err)
			}
			// What SOURCES.md says each fixture is.
			switch {
			case strings.Contains(name, "savepoint-native"):
				if p.Kind != KindSavepoint || p.Format != FormatNative {
					t.Errorf("got %+v, want a NATIVE savepoint", p)
				}
			case strings.Contains(name, "savepoint") || strings.Contains(name, "complexKeyed"):
				if p.Kind != KindSavepoint || p.Format != FormatCanonical {
					t.Errorf("got %+v, want a CANONICAL savepoint", p)
				}
			case strings.Contains(name, "checkpoint"):
				if p.Kind != KindCheckpoint || p.SharingFilesStrategy == "" {
					t.Errorf("got %+v, want a checkpoint", p)
				}
			}
			enc, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, tr) {
				t.Errorf("re-encoded trailer differs:\n got %x\nwant %x", enc, tr)
			}
		})
	}
}

func TestPropertiesConstructorsRoundTrip(t *testing.T) {
	for _, p := range []Properties{
		CheckpointProperties(),
		SavepointProperties(FormatCanonical, ActionNone),
		SavepointProperties(FormatNative, ActionSuspend),
		SavepointProperties(FormatCanonical, ActionTerminate),
	} {
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseProperties(b)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if back != p {
			t.Errorf("round trip: got %+v, want %+v", back, p)
		}
	}
}

func TestParsePropertiesBadInput(t *testing.T) {
	good, _ := CheckpointProperties().Encode()
	tests := map[string][]byte{
		"empty":     nil,
		"bad magic": append([]byte{0xAC, 0xEE}, good[2:]...),
		"truncated": good[:len(good)-3],
		"trailing":  append(append([]byte{}, good...), 0),
		"string":    {0xAC, 0xED, 0, 5, tcString, 0, 1, 'x'},
		"bad ref":   {0xAC, 0xED, 0, 5, tcReference, 0, 0x7E, 0, 9},
	}
	for name, b := range tests {
		if _, err := ParseProperties(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for i := range good {
		ParseProperties(good[:i]) // must not panic
	}
}
