package snapshot

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every real Flink fixture decodes to its end and re-encodes to the same
// bytes.
func TestFixturesRoundTrip(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			b := readFixture(t, f)
			m, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if m.Version != int(b[7]) {
				t.Errorf("version %d, header says %d", m.Version, b[7])
			}
			enc, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, b) {
				i := 0
				for i < len(enc) && i < len(b) && enc[i] == b[i] {
					i++
				}
				t.Fatalf("re-encoded bytes differ from offset %d (len %d vs %d)", i, len(enc), len(b))
			}
		})
	}
}

// The streaming decoder yields the same operators through a reader that
// returns one byte at a time and has no known size.
func TestStreamingDecoderOneByteReads(t *testing.T) {
	for _, f := range fixtures(t) {
		b := readFixture(t, f)
		want, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecoder(&oneByteReader{b: b}, DecodeOptions{Name: f.name})
		h, err := d.Header()
		if err != nil {
			t.Fatal(err)
		}
		if h.NumOperators != len(want.Operators) || h.CheckpointID != want.CheckpointID {
			t.Fatalf("%s: header %+v", f.name, h)
		}
		n := 0
		for {
			op, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			if op.ID != want.Operators[n].ID {
				t.Fatalf("%s: operator %d is %s, want %s", f.name, n, op.ID, want.Operators[n].ID)
			}
			n++
		}
		if n != len(want.Operators) || !bytes.Equal(d.Trailer(), want.Trailer) {
			t.Fatalf("%s: %d operators, trailer %d bytes", f.name, n, len(d.Trailer()))
		}
	}
}

type oneByteReader struct {
	b []byte
	i int
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[r.i]
	r.i++
	return 1, nil
}

func summary(m *Metadata) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "v%d chk %d ops %d", m.Version, m.CheckpointID, len(m.Operators))
	return sb.String()
}

// sourcesRow is one row of the fixtures' SOURCES.md table.
type sourcesRow struct {
	version int
	tags    map[string]bool // "k11", "o4", "s6", ...
	extras  string
}

// parseSources reads the fixture table of SOURCES.md: the metadata version
// and the non-null handle tags each file is documented to contain.
func parseSources(t *testing.T) map[string]sourcesRow {
	b, err := os.ReadFile(filepath.Join(fixtureRoot(t), "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]sourcesRow{}
	tagRe := regexp.MustCompile(`\b([kos])(\d+)\b`)
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 13 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[2]), "`")
		v, err := strconv.Atoi(strings.TrimSpace(cells[10]))
		if err != nil {
			continue
		}
		extras := strings.TrimSpace(cells[11])
		row := sourcesRow{version: v, tags: map[string]bool{}, extras: extras}
		tagPart := strings.ReplaceAll(strings.ReplaceAll(extras, "*", ""), ";", " ")
		if i := strings.IndexAny(tagPart, ",("); i >= 0 {
			tagPart = tagPart[:i]
		}
		for _, m := range tagRe.FindAllStringSubmatch(tagPart, -1) {
			row.tags[m[1]+m[2]] = true
		}
		rows[name] = row
	}
	return rows
}

// Each fixture holds exactly the handle kinds SOURCES.md lists for it, in
// the version it lists, and the channel-state counts it mentions.
func TestFixturesMatchSources(t *testing.T) {
	rows := parseSources(t)
	if len(rows) < 26 {
		t.Fatalf("parsed %d rows from SOURCES.md", len(rows))
	}
	for _, f := range fixtures(t) {
		row, ok := rows[f.name]
		if !ok {
			t.Errorf("%s: not in SOURCES.md", f.name)
			continue
		}
		m, err := Unmarshal(readFixture(t, f))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		channels := 0
		m.Walk(func(v Visit) {
			if v.Channel != nil {
				channels++
				return
			}
			switch v.Handle.(type) {
			case KeyedHandle:
				if _, isStream := v.Handle.(StreamHandle); isStream && v.Depth > 0 {
					break
				}
				got[fmt.Sprintf("k%d", v.Handle.Tag())] = true
			case OperatorHandle:
				got[fmt.Sprintf("o%d", v.Handle.Tag())] = true
			}
			if _, ok := v.Handle.(StreamHandle); ok {
				if _, kg := v.Handle.(*KeyGroupsHandle); !kg {
					got[fmt.Sprintf("s%d", v.Handle.Tag())] = true
				}
			}
		})
		if m.Version != row.version {
			t.Errorf("%s: version %d, SOURCES.md says %d", f.name, m.Version, row.version)
		}
		if !maps.Equal(got, row.tags) {
			t.Errorf("%s: tags %v, SOURCES.md says %v (%s)", f.name, sortedKeys(got), sortedKeys(row.tags), row.extras)
		}
		if mm := regexp.MustCompile(`(\d+) channel-state handles`).FindStringSubmatch(row.extras); mm != nil {
			if want, _ := strconv.Atoi(mm[1]); channels != want {
				t.Errorf("%s: %d channel handles, SOURCES.md says %d", f.name, channels, want)
			}
		} else if channels != 0 {
			t.Errorf("%s: %d channel handles, SOURCES.md mentions none", f.name, channels)
		}
		coord := 0
		for _, op := range m.Operators {
			if op.CoordinatorState != nil {
				coord++
			}
		}
		if strings.Contains(row.extras, "coordinator state") != (coord > 0) {
			t.Errorf("%s: %d coordinator states; SOURCES.md: %q", f.name, coord, row.extras)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The header and the first operator are available while the rest of the
// file has not even been written: what lets the TUI show a 100 MB file at
// once.
func TestDecoderYieldsBeforeTheRestArrives(t *testing.T) {
	b, err := Marshal(largeSynthetic(3, 4, 2))
	if err != nil {
		t.Fatal(err)
	}
	full, _ := Unmarshal(b)
	one, _ := Marshal(&Metadata{Version: full.Version, CheckpointID: full.CheckpointID, Trailer: full.Trailer,
		Operators: full.Operators[:1]})
	// Header + first operator = the bytes of a one-operator file minus its
	// trailer, except the operator count.
	firstPart := len(one) - len(full.Trailer)
	pr, pw := io.Pipe()
	firstSeen := make(chan struct{})
	go func() {
		pw.Write(b[:firstPart])
		<-firstSeen // the rest is written only once the first operator was decoded
		pw.Write(b[firstPart:])
		pw.Close()
	}()
	d := NewDecoder(pr, DecodeOptions{})
	got := make(chan *OperatorState, 1)
	go func() {
		if _, err := d.Header(); err != nil {
			t.Error(err)
		}
		op, err := d.Next()
		if err != nil {
			t.Error(err)
		}
		got <- op
	}()
	select {
	case op := <-got:
		if op == nil || op.UID != full.Operators[0].UID {
			t.Fatalf("first operator %+v", op)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the decoder waited for more than the first operator's bytes")
	}
	close(firstSeen)
	for {
		_, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Values real Flink's loader refuses are refused here too, with the offset.
func TestDecodeRefusesWhatFlinkRefuses(t *testing.T) {
	m := kitchenSink(VersionWrite)
	b, _ := Marshal(m)
	// Parallelism of operator 1 (the changelog one, 2 subtasks) lowered to 1:
	// its subtask 1 is then out of range.
	id := m.Operators[1].ID
	i := bytes.Index(b, append(binaryID(id), 0, 0, 0, 2))
	if i < 0 {
		t.Fatal("operator not found")
	}
	bad := append([]byte{}, b...)
	bad[i+16+3] = 1
	if _, err := Unmarshal(bad); err == nil || !strings.Contains(err.Error(), "a subtask index below the parallelism 1") {
		t.Errorf("subtask index: %v", err)
	}
	bad = append([]byte{}, b...)
	bad[i+16+3], bad[i+16+7] = 200, 100 // parallelism 200 > max parallelism 100
	if _, err := Unmarshal(bad); err == nil || !strings.Contains(err.Error(), "parallelism 200, max parallelism 100") {
		t.Errorf("parallelism: %v", err)
	}
}

func binaryID(id OperatorID) []byte { return append([]byte{}, id[:]...) }
