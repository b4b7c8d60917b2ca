package inspector

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// Diff compares two snapshots operator by operator (matched by ID).
type Diff struct {
	From      SnapshotInfo   `json:"a"`
	To        SnapshotInfo   `json:"b"`
	Added     []DiffOperator `json:"added"`   // in B only
	Removed   []DiffOperator `json:"removed"` // in A only
	Changed   []DiffOperator `json:"changed"` // in both, something differs
	Unchanged int            `json:"unchanged"`
	// StateSizeDelta is B's total state size minus A's.
	StateSizeDelta int64 `json:"state_size_delta"`
	// Files compares the referenced files: only in A, only in B, in both
	// (for incremental checkpoints, "both" is what B reuses from A).
	Files FileDiff `json:"files"`
}

// SnapshotInfo names one side of a diff.
type SnapshotInfo struct {
	Path          string `json:"path"`
	CheckpointID  int64  `json:"checkpoint_id"`
	Kind          string `json:"kind"`
	FormatVersion int    `json:"format_version"`
	Operators     int    `json:"operators"`
	StateSize     int64  `json:"state_size"`
}

// DiffOperator is one operator of a diff.
type DiffOperator struct {
	ID    string `json:"id"`
	UID   string `json:"uid"`
	Name  string `json:"name,omitempty"`
	SizeA int64  `json:"state_size_a"`
	SizeB int64  `json:"state_size_b"`
	Delta int64  `json:"state_size_delta"`
	// Changes lists what differs besides the size, e.g.
	// "parallelism 2 → 4", "max parallelism 128 → 256", "state kinds +keyed:incremental".
	Changes []string `json:"changes"`
}

// FileDiff counts files referenced by one side, the other, or both.
type FileDiff struct {
	OnlyA      int   `json:"only_a"`
	OnlyABytes int64 `json:"only_a_bytes"`
	OnlyB      int   `json:"only_b"`
	OnlyBBytes int64 `json:"only_b_bytes"`
	Both       int   `json:"both"`
	BothBytes  int64 `json:"both_bytes"`
}

// Compare diffs a and b (uids names operators of old files; may be nil).
func Compare(a, b *snapshot.Metadata, uids *UIDMapping) *Diff {
	ra, rb := Summarize(a, uids), Summarize(b, uids)
	d := &Diff{From: info(a, ra), To: info(b, rb), Added: []DiffOperator{}, Removed: []DiffOperator{}, Changed: []DiffOperator{}}
	d.StateSizeDelta = rb.Totals.StateSize - ra.Totals.StateSize
	opsA := map[string]OperatorReport{}
	for _, o := range ra.Operators {
		opsA[o.ID] = o
	}
	seen := map[string]bool{}
	for _, ob := range rb.Operators {
		seen[ob.ID] = true
		oa, ok := opsA[ob.ID]
		if !ok {
			d.Added = append(d.Added, DiffOperator{ID: ob.ID, UID: ob.UID, Name: ob.Name, SizeB: ob.StateSize, Delta: ob.StateSize, Changes: []string{}})
			continue
		}
		do := DiffOperator{ID: ob.ID, UID: firstNonEmpty(ob.UID, oa.UID), Name: firstNonEmpty(ob.Name, oa.Name),
			SizeA: oa.StateSize, SizeB: ob.StateSize, Delta: ob.StateSize - oa.StateSize, Changes: operatorChanges(oa, ob)}
		if len(do.Changes) == 0 && do.Delta == 0 {
			d.Unchanged++
			continue
		}
		d.Changed = append(d.Changed, do)
	}
	for _, oa := range ra.Operators {
		if !seen[oa.ID] {
			d.Removed = append(d.Removed, DiffOperator{ID: oa.ID, UID: oa.UID, Name: oa.Name, SizeA: oa.StateSize, Delta: -oa.StateSize, Changes: []string{}})
		}
	}
	fa, fb := map[string]int64{}, map[string]int64{}
	for _, f := range CollectFiles(a) {
		fa[f.URI] = f.Size
	}
	for _, f := range CollectFiles(b) {
		fb[f.URI] = f.Size
		if _, ok := fa[f.URI]; ok {
			d.Files.Both++
			d.Files.BothBytes += f.Size
		} else {
			d.Files.OnlyB++
			d.Files.OnlyBBytes += f.Size
		}
	}
	for u, s := range fa {
		if _, ok := fb[u]; !ok {
			d.Files.OnlyA++
			d.Files.OnlyABytes += s
		}
	}
	sort.SliceStable(d.Changed, func(i, j int) bool { return abs(d.Changed[i].Delta) > abs(d.Changed[j].Delta) })
	return d
}

func info(m *snapshot.Metadata, r *Report) SnapshotInfo {
	return SnapshotInfo{Path: firstNonEmpty(m.ExclusiveDir, m.Location), CheckpointID: m.CheckpointID, Kind: r.Kind,
		FormatVersion: m.Version, Operators: len(m.Operators), StateSize: r.Totals.StateSize}
}

func operatorChanges(a, b OperatorReport) []string {
	out := []string{}
	if a.Parallelism != b.Parallelism {
		out = append(out, fmt.Sprintf("parallelism %d → %d", a.Parallelism, b.Parallelism))
	}
	if a.MaxParallelism != b.MaxParallelism {
		out = append(out, fmt.Sprintf("max parallelism %d → %d", a.MaxParallelism, b.MaxParallelism))
	}
	if a.UIDSource == "metadata" && b.UIDSource == "metadata" && a.UID != b.UID {
		out = append(out, fmt.Sprintf("uid %q → %q", a.UID, b.UID))
	}
	if a.Name != "" && b.Name != "" && a.Name != b.Name {
		out = append(out, fmt.Sprintf("name %q → %q", a.Name, b.Name))
	}
	if a.FullyFinished != b.FullyFinished {
		out = append(out, fmt.Sprintf("fully finished %v → %v", a.FullyFinished, b.FullyFinished))
	}
	ka, kb := map[string]bool{}, map[string]bool{}
	for _, k := range a.StateKinds {
		ka[k] = true
	}
	for _, k := range b.StateKinds {
		kb[k] = true
	}
	var kinds []string
	for _, k := range b.StateKinds {
		if !ka[k] {
			kinds = append(kinds, "+"+k)
		}
	}
	for _, k := range a.StateKinds {
		if !kb[k] {
			kinds = append(kinds, "-"+k)
		}
	}
	if len(kinds) > 0 {
		out = append(out, "state kinds "+strings.Join(kinds, " "))
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
