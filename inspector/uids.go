package inspector

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// UIDMapping maps operator IDs back to the uids (or names) a user knows.
// Flink derives an operator's ID from its uid with murmur3_128, so a list
// of candidate uids is enough to name the operators of any snapshot.
type UIDMapping struct {
	byID    map[snapshot.OperatorID]string
	entries []MappingEntry
}

// MappingEntry is one candidate: a uid and the ID it hashes to, or a
// literal ID (setUidHash) with the label it was given.
type MappingEntry struct {
	UID string
	ID  snapshot.OperatorID
	// Literal: ID was given as hex (Flink's setUidHash), not hashed.
	Literal bool
}

// HashPrefix marks a literal operator ID in a uid list: "hash:<32 hex>"
// (optionally "label=hash:<32 hex>"), for operators whose ID was fixed with
// setUidHash. Everything else is a uid and gets hashed.
const HashPrefix = "hash:"

// NewUIDMapping builds a mapping from entries (uids, or literal IDs with
// HashPrefix). Duplicates are ignored; two different uids hashing to the
// same ID (Flink refuses such a job) is an error.
func NewUIDMapping(entries []string) (*UIDMapping, error) {
	m := &UIDMapping{byID: map[snapshot.OperatorID]string{}}
	for _, raw := range entries {
		e, err := parseEntry(raw)
		if err != nil {
			return nil, err
		}
		if prev, ok := m.byID[e.ID]; ok {
			if prev != e.UID {
				return nil, fmt.Errorf("uids %q and %q map to the same operator ID %s", prev, e.UID, e.ID)
			}
			continue
		}
		m.byID[e.ID] = e.UID
		m.entries = append(m.entries, e)
	}
	return m, nil
}

func parseEntry(raw string) (MappingEntry, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return MappingEntry{}, fmt.Errorf("empty uid")
	}
	label, rest := "", s
	if i := strings.Index(s, "="+HashPrefix); i > 0 {
		label, rest = s[:i], s[i+1:]
	}
	if hexID, ok := strings.CutPrefix(rest, HashPrefix); ok {
		id, err := snapshot.ParseOperatorID(hexID)
		if err != nil {
			return MappingEntry{}, fmt.Errorf("%q: %v", raw, err)
		}
		if label == "" {
			label = HashPrefix + id.String()
		}
		return MappingEntry{UID: label, ID: id, Literal: true}, nil
	}
	return MappingEntry{UID: s, ID: snapshot.OperatorIDFromUID(s)}, nil
}

// ParseUIDList splits a comma-separated --uids value.
func ParseUIDList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ReadUIDs reads one uid per line; blank lines and lines starting with #
// are skipped, surrounding space is trimmed (a uid never has any in
// practice). name is used in errors.
func ReadUIDs(r io.Reader, name string) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if _, err := parseEntry(s); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return out, nil
}

// ReadUIDsFile is ReadUIDs on a local file.
func ReadUIDsFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("uids file: %w", err)
	}
	defer f.Close()
	return ReadUIDs(f, path)
}

// Lookup returns the uid (or label) for id.
func (m *UIDMapping) Lookup(id snapshot.OperatorID) (string, bool) {
	if m == nil {
		return "", false
	}
	u, ok := m.byID[id]
	return u, ok
}

// Entries lists the mapping's entries in the order given.
func (m *UIDMapping) Entries() []MappingEntry {
	if m == nil {
		return nil
	}
	return m.entries
}

// Unmatched lists the entries whose ID does not occur in md.
func (m *UIDMapping) Unmatched(md *snapshot.Metadata) []MappingEntry {
	var out []MappingEntry
	for _, e := range m.Entries() {
		if md.Operator(e.ID) == nil {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out
}
