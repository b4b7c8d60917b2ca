package snapshot

import (
	"fmt"
	"strconv"
	"strings"
)

// Converting a snapshot's _metadata to another format version, so that an
// older (or newer) Flink can read it. What each release reads and writes,
// checked in the bytecode of flink-runtime (MetadataSerializers registers
// the readers, Checkpoints.storeCheckpointMetadata picks the writer):
//
//	Flink 1.16–1.20  reads V1(refused)–V4, writes V4
//	Flink 2.0        reads up to V5,       writes V5
//	Flink 2.1–2.3    reads up to V6,       writes V6
//
// Between V4 and V6 exactly three things differ; everything else — the
// handle tags (0..17, file merging included), changelog handles, finished
// operators and subtasks, coordinator state, and the CheckpointProperties
// trailer (same classes, fields and serialVersionUIDs in 1.16 through 2.3)
// — is written the same way:
//
//   - V5 adds each operator's name and uid. They are labels: Flink matches
//     state to operators by operator ID alone, which every version keeps.
//     Going down to V4 they are left out and the conversion reports them
//     (Conversion.NotKept); going up they stay unset, as Flink 2.x writes
//     for an operator without them.
//   - V6 adds a kind byte to every channel-state handle and the merged
//     channel-state handles (in-flight data of unaligned checkpoints).
//     Ordinary channel handles convert both ways; a merged one is state
//     that V4 and V5 cannot hold: converting it down is an error.
//   - V7 (apache/flink master) adds a per-subtask reference to an earlier
//     checkpoint; a snapshot using it does not convert to V6 or below.
//
// V2 and V3 files have no CheckpointProperties trailer; Flink 1.16+ and
// 2.x read them as they are, so ckpt keeps them and converts only between
// V4 and later.

// ConvertTargets are the versions Metadata.ConvertTo writes.
var ConvertTargets = []int{Version4, Version5, Version6}

// ParseTargetVersion parses a target format version as a user writes it:
// "V4", "v4" or "4" (V4, V5 or V6).
func ParseTargetVersion(s string) (int, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "V"), "v")
	v, err := strconv.Atoi(t)
	if err == nil {
		for _, c := range ConvertTargets {
			if v == c {
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("format version %q: want V4 (Flink 1.16–1.20), V5 (Flink 2.0) or V6 (Flink 2.1–2.3)", s)
}

// VersionForFlink is the format version a Flink release writes, which is
// the newest it reads: "1.20.5" → 4, "2.0.1" → 5, "2.3.0" → 6. A release
// that reads none of ConvertTargets (before 1.16), or a version string
// that is not Flink's, is an error. Releases after 2.3 read V6.
func VersionForFlink(flinkVersion string) (int, error) {
	parts := strings.SplitN(strings.TrimSpace(flinkVersion), ".", 3)
	major, err1 := strconv.Atoi(parts[0])
	minor := 0
	var err2 error
	if len(parts) > 1 {
		minor, err2 = strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	}
	if err1 != nil || err2 != nil || len(parts) < 2 {
		return 0, fmt.Errorf("flink-version %q is not a Flink release (want e.g. 1.20.1 or 2.3.0)", flinkVersion)
	}
	switch {
	case major == 1 && minor >= 16:
		return Version4, nil
	case major == 2 && minor == 0:
		return Version5, nil
	case major >= 2:
		return Version6, nil
	case major == 1 && minor >= 11:
		return 0, fmt.Errorf("Flink %s reads _metadata up to V3; ckpt converts only to V4 and later (a V3 snapshot stays V3)", flinkVersion)
	}
	return 0, fmt.Errorf("Flink %s reads _metadata up to V2; ckpt converts only to V4 and later", flinkVersion)
}

// Conversion is what ConvertTo did.
type Conversion struct {
	From int `json:"from"`
	To   int `json:"to"`
	// NotKept names the labels the target version has no field for
	// (operator names and uids going below V5), one entry per operator:
	// "operator 4df5… (uid \"orders\", name \"Orders\")". The state, the
	// operator IDs and everything Flink restores by are kept.
	NotKept []string `json:"not_kept,omitempty"`
}

// ConvertTo changes m to format version v (one of ConvertTargets) by the
// rules at the top of this file. It changes nothing and returns an error
// naming the first thing v cannot hold when there is one. Converting to
// m's own version is a no-op.
func (m *Metadata) ConvertTo(v int) (*Conversion, error) {
	c := &Conversion{From: m.Version, To: v}
	if v == m.Version {
		return c, nil
	}
	ok := false
	for _, t := range ConvertTargets {
		ok = ok || t == v
	}
	if !ok {
		return nil, fmt.Errorf("convert _metadata to V%d: ckpt writes V4, V5 or V6 (Flink 1.16–1.20, 2.0, 2.1–2.3)", v)
	}
	if m.Version < Version4 {
		return nil, fmt.Errorf("convert _metadata V%d to V%d: a V%d file has no checkpoint properties to carry over; Flink 1.16 and later read V%d as it is (keep its version)", m.Version, v, m.Version, m.Version)
	}
	if m.Version > VersionMax {
		return nil, fmt.Errorf("convert _metadata: unknown source version %d", m.Version)
	}
	if len(m.Trailer) == 0 {
		return nil, fmt.Errorf("convert _metadata V%d to V%d: the checkpoint properties trailer is missing", m.Version, v)
	}
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			if st == nil {
				continue
			}
			if v < Version7 && st.HasRefCheckpointID {
				return nil, fmt.Errorf("convert _metadata to V%d: operator %s, subtask %d reuses the state of checkpoint %d (a V7 regional-checkpoint reference, which V%d cannot hold)",
					v, op.ID, st.Index, st.RefCheckpointID, v)
			}
			if v < Version6 {
				for _, ch := range append(append([]*ChannelHandle{}, st.InputChannels...), st.OutputChannels...) {
					if ch != nil && ch.Kind.Merged() {
						return nil, fmt.Errorf("convert _metadata to V%d: operator %s, subtask %d holds in-flight data of an unaligned checkpoint in a merged channel-state handle (%s, %d bytes), which only V6 and later hold",
							v, op.ID, st.Index, ch.Kind, ch.Size)
					}
				}
			}
		}
	}
	for _, op := range m.Operators {
		if v >= Version5 || (op.Name == "" && op.UID == "") {
			continue
		}
		var what []string
		if op.UID != "" {
			u := fmt.Sprintf("uid %q", op.UID)
			if OperatorIDFromUID(op.UID) != op.ID {
				u += " (not the uid's hash: only this label tied them)"
			}
			what = append(what, u)
		}
		if op.Name != "" {
			what = append(what, fmt.Sprintf("name %q", op.Name))
		}
		c.NotKept = append(c.NotKept, fmt.Sprintf("operator %s (%s)", op.ID, strings.Join(what, ", ")))
	}
	if v < Version5 {
		for _, op := range m.Operators {
			op.Name, op.UID = "", ""
		}
	}
	m.Version = v
	return c, nil
}
