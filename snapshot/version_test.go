package snapshot

import (
	"bytes"
	"strings"
	"testing"
)

// Every real Flink fixture of V4 converts to V6 and back to its very
// bytes; the V6 form decodes as V6 with the same operators. V2 and V3
// fixtures are refused (no properties trailer) and left unchanged.
func TestConvertFixturesV4V6V4(t *testing.T) {
	seen := map[int]int{}
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			b := readFixture(t, f)
			m, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			seen[m.Version]++
			if m.Version < Version4 {
				v := m.Version
				if _, err := m.ConvertTo(Version6); err == nil || !strings.Contains(err.Error(), "checkpoint properties") {
					t.Fatalf("V%d → V6: error %v, want one about the missing checkpoint properties", v, err)
				}
				if m.Version != v {
					t.Fatalf("a refused conversion changed the version to %d", m.Version)
				}
				return
			}
			c, err := m.ConvertTo(Version6)
			if err != nil {
				t.Fatal(err)
			}
			if c.From != Version4 || c.To != Version6 || len(c.NotKept) != 0 {
				t.Fatalf("conversion %+v", c)
			}
			v6, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if v6[7] != Version6 {
				t.Fatalf("header version %d, want 6", v6[7])
			}
			back, err := Unmarshal(v6)
			if err != nil {
				t.Fatalf("the V6 form does not decode: %v", err)
			}
			if back.Version != Version6 || len(back.Operators) != len(m.Operators) || !bytes.Equal(back.Trailer, m.Trailer) {
				t.Fatalf("V6 form: version %d, %d operators (want %d), trailer equal %v", back.Version, len(back.Operators), len(m.Operators), bytes.Equal(back.Trailer, m.Trailer))
			}
			if _, err := back.ConvertTo(Version4); err != nil {
				t.Fatal(err)
			}
			v4, err := Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(v4, b) {
				t.Fatalf("V4 → V6 → V4 is not the identity (%d bytes vs %d)", len(v4), len(b))
			}
		})
	}
	if seen[Version4] < 5 {
		t.Fatalf("only %d V4 fixtures", seen[Version4])
	}
}

// The kitchen sink (every handle kind, channel state, finished operators,
// master states) converts V4 → V5 → V6 → V4 to the same bytes; going up
// only adds the fields, down only removes them.
func TestConvertKitchenSinkRoundTrip(t *testing.T) {
	orig, err := Marshal(kitchenSink(Version4))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := Unmarshal(orig)
	for _, v := range []int{Version5, Version6, Version5, Version6, Version4} {
		if _, err := m.ConvertTo(v); err != nil {
			t.Fatalf("to V%d: %v", v, err)
		}
		b, err := Marshal(m)
		if err != nil {
			t.Fatalf("V%d: %v", v, err)
		}
		if m, err = Unmarshal(b); err != nil || m.Version != v {
			t.Fatalf("V%d: decode %v, version %d", v, err, m.Version)
		}
	}
	again, _ := Marshal(m)
	if !bytes.Equal(again, orig) {
		t.Fatal("V4 → V5 → V6 → V5 → V6 → V4 is not the identity")
	}
}

// Going down, what V4 cannot hold is an error naming it and nothing
// changes; names and uids (labels) are reported, never dropped silently.
func TestConvertDown(t *testing.T) {
	t.Run("merged channel state", func(t *testing.T) {
		m := kitchenSink(Version6)
		before, _ := Marshal(m)
		_, err := m.ConvertTo(Version4)
		if err == nil || !strings.Contains(err.Error(), "merged channel-state handle") || !strings.Contains(err.Error(), OperatorIDFromUID("map").String()) || !strings.Contains(err.Error(), "subtask 1") {
			t.Fatalf("error %v, want one naming the merged channel handle of operator map, subtask 1", err)
		}
		if after, _ := Marshal(m); !bytes.Equal(before, after) {
			t.Fatal("a refused conversion changed the metadata")
		}
		if _, err := m.ConvertTo(Version5); err == nil {
			t.Fatal("V6 → V5 with merged channel state converted")
		}
	})
	t.Run("regional reference", func(t *testing.T) {
		m := kitchenSink(Version7)
		_, err := m.ConvertTo(Version6)
		if err == nil || !strings.Contains(err.Error(), "checkpoint 40") {
			t.Fatalf("error %v, want one naming the referenced checkpoint 40", err)
		}
	})
	t.Run("names and uids", func(t *testing.T) {
		m := kitchenSink(Version6)
		for _, op := range m.Operators {
			for _, st := range op.Subtasks {
				st.InputChannels, st.OutputChannels = nil, nil
			}
		}
		m.Operators[1].UID = "not-its-uid" // ID is the hash of "changelog"
		c, err := m.ConvertTo(Version4)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.NotKept) != 3 {
			t.Fatalf("not kept %q, want the 3 operators' labels", c.NotKept)
		}
		for i, want := range []string{`uid "map", name "Map → Filter"`, `uid "not-its-uid" (not the uid's hash`, `uid "done", name "Done"`} {
			if !strings.Contains(c.NotKept[i], want) || !strings.Contains(c.NotKept[i], m.Operators[i].ID.String()) {
				t.Errorf("not kept[%d] = %q, want it to name %s and %s", i, c.NotKept[i], m.Operators[i].ID, want)
			}
		}
		b, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unmarshal(b)
		if err != nil || back.Version != Version4 || len(back.Operators) != 3 {
			t.Fatalf("V4 form: %v", err)
		}
	})
	t.Run("refused targets", func(t *testing.T) {
		for _, v := range []int{Version2, Version3, Version7, 8} {
			m := kitchenSink(Version6)
			if _, err := m.ConvertTo(v); err == nil || m.Version != Version6 {
				t.Errorf("V6 → V%d converted (version now %d)", v, m.Version)
			}
		}
	})
}

func TestParseTargetVersion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{{"V4", 4}, {"v6", 6}, {"5", 5}, {" V4 ", 4}, {"V3", 0}, {"V7", 0}, {"4.0", 0}, {"", 0}, {"1.20", 0}} {
		got, err := ParseTargetVersion(tt.in)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("ParseTargetVersion(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestVersionForFlink(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"1.16.0", 4}, {"1.17.2", 4}, {"1.20.5", 4}, {"1.20-SNAPSHOT", 4}, {"2.0.0", 5}, {"2.0.1", 5},
		{"2.1.0", 6}, {"2.3.0", 6}, {"2.4-SNAPSHOT", 6}, {"3.0.0", 6},
		{"1.15.4", 0}, {"1.10.0", 0}, {"ckpt-0.3", 0}, {"", 0}, {"2", 0},
	} {
		got, err := VersionForFlink(tt.in)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("VersionForFlink(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}
