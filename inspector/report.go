// Package inspector analyses snapshots decoded by package snapshot: what a
// checkpoint or savepoint holds (operators, uids, sizes, files and whether
// they exist), what a resume would do to a new job (dry run), what changed
// between two snapshots, and which shared files no retained checkpoint
// references. It reads storage but never writes it, and does not depend on
// the engine: a job's operators come in as a Target.
package inspector

import (
	"context"
	"fmt"
	"sort"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Report is what `ckpt inspect` shows. Its JSON field names are a contract
// with scripts (documented in the README): fields may be added, never
// renamed or removed.
type Report struct {
	Path          string `json:"path"`           // what the user gave
	Metadata      string `json:"metadata"`       // the _metadata file read
	Dir           string `json:"dir"`            // the exclusive directory (relative handles)
	MetadataBytes int64  `json:"metadata_bytes"` // size of _metadata
	FormatVersion int    `json:"format_version"` // 2..7
	// WrittenBy is the earliest Flink release that writes FormatVersion
	// (snapshot.WrittenBy), e.g. "Flink 1.11+".
	WrittenBy    string `json:"written_by"`
	CheckpointID int64  `json:"checkpoint_id"`
	// Kind is "checkpoint", "savepoint" or "unknown"; KindSource says how
	// it was determined: "trailer" (V4+ properties), "directory" (chk-N /
	// savepoint-… name) or "handles" (canonical savepoint key-groups handles).
	Kind       string `json:"kind"`
	KindSource string `json:"kind_source,omitempty"`
	// SavepointFormat is CANONICAL or NATIVE for savepoints when known.
	SavepointFormat string `json:"savepoint_format,omitempty"`
	// TypeName is Flink's name of the snapshot type from the trailer
	// ("Checkpoint", "Full Checkpoint", "Savepoint", "Suspend Savepoint", …).
	TypeName     string           `json:"type_name,omitempty"`
	MasterStates []MasterState    `json:"master_states"`
	Operators    []OperatorReport `json:"operators"`
	// Files lists every file the snapshot references (when requested).
	Files  []FileRef `json:"files,omitempty"`
	Totals Totals    `json:"totals"`
	// Sizes puts side by side the three numbers that get confused (Flink's
	// UI showed only the first until FLINK-25557, and neither is disk use).
	Sizes Sizes `json:"sizes"`
	// Restorable is the verdict on the referenced files, for the top of
	// any screen: "yes" (all exist), "no" (some are missing: the snapshot
	// cannot be restored), "unknown" (some could not be checked) or
	// "unchecked" (existence was not checked).
	Restorable string `json:"restorable"`
	// Verdict says Restorable in one line ("" when "yes" or "unchecked"),
	// e.g. "cannot be restored: 82 of 82 referenced files are missing".
	Verdict string `json:"verdict,omitempty"`
	// Warnings are facts worth a second look (missing files, uid
	// conflicts, …).
	Warnings []string `json:"warnings"`
}

// Values of Report.Restorable.
const (
	RestorableYes       = "yes"
	RestorableNo        = "no"
	RestorableUnknown   = "unknown"
	RestorableUnchecked = "unchecked"
)

// ExitMissingFiles is `ckpt inspect`'s exit code when the _metadata
// decodes but files it references are missing: the snapshot cannot be
// restored.
const ExitMissingFiles = 5

// CannotRestore reports whether referenced files were found missing.
func (r *Report) CannotRestore() bool { return r.Restorable == RestorableNo }

// MasterState is one master hook's state.
type MasterState struct {
	Name    string `json:"name"`
	Version int32  `json:"version"`
	Bytes   int    `json:"bytes"`
}

// OperatorReport is one operator.
type OperatorReport struct {
	ID string `json:"id"`
	// UID is the operator's uid when known; UIDSource says where from:
	// "metadata" (stored by Flink ≥ 2.0), "mapping" (matched a uid the user
	// supplied), "" (unknown: no uid, or not supplied).
	UID            string `json:"uid"`
	UIDSource      string `json:"uid_source"`
	Name           string `json:"name"`
	Parallelism    int32  `json:"parallelism"`
	MaxParallelism int32  `json:"max_parallelism"`
	// StateSize and CheckpointedSize are Flink's numbers (full size, and
	// what this checkpoint uploaded).
	StateSize        int64 `json:"state_size"`
	CheckpointedSize int64 `json:"checkpointed_size"`
	HasState         bool  `json:"has_state"`
	CoordinatorBytes int64 `json:"coordinator_bytes"`
	FullyFinished    bool  `json:"fully_finished"`
	FinishedSubtasks int   `json:"finished_subtasks"`
	// StateKinds lists the kinds of state present, e.g. "keyed:incremental",
	// "keyed:key-groups", "operator:SPLIT_DISTRIBUTE", "channel", "coordinator".
	StateKinds []string `json:"state_kinds"`
	// Files summarises the files this operator references by scope.
	Files    FileCounts      `json:"files"`
	Subtasks []SubtaskReport `json:"subtasks"`
}

// SubtaskReport is one subtask of an operator.
type SubtaskReport struct {
	Index            int32       `json:"index"`
	Finished         bool        `json:"finished"`
	StateSize        int64       `json:"state_size"`
	CheckpointedSize int64       `json:"checkpointed_size"`
	ManagedKeyed     *HandleInfo `json:"managed_keyed,omitempty"`
	RawKeyed         *HandleInfo `json:"raw_keyed,omitempty"`
	ManagedOperator  *HandleInfo `json:"managed_operator,omitempty"`
	RawOperator      *HandleInfo `json:"raw_operator,omitempty"`
	InputChannels    int         `json:"input_channels"`
	OutputChannels   int         `json:"output_channels"`
	ChannelBytes     int64       `json:"channel_bytes"`
	RefCheckpointID  *int64      `json:"ref_checkpoint_id,omitempty"`
}

// HandleInfo describes one top-level handle of a subtask.
type HandleInfo struct {
	// Kind: "incremental", "key-groups", "savepoint-key-groups",
	// "changelog", "changelog-inline", "changelog-file", "operator-state",
	// "file-merging-operator-state".
	Kind string `json:"kind"`
	Tag  uint8  `json:"tag"`
	// KeyGroups is "first-last" for keyed handles ("" when empty).
	KeyGroups        string `json:"key_groups,omitempty"`
	StateSize        int64  `json:"state_size"`
	CheckpointedSize int64  `json:"checkpointed_size"`
	// States names the operator states (operator handles) with their
	// distribution mode, e.g. "source-state (SPLIT_DISTRIBUTE)".
	States []string `json:"states,omitempty"`
	// Files counts the files behind the handle.
	Files int `json:"files"`
}

// FileCounts counts referenced files by scope.
type FileCounts struct {
	Exclusive      int   `json:"exclusive"`
	ExclusiveBytes int64 `json:"exclusive_bytes"`
	Shared         int   `json:"shared"`
	SharedBytes    int64 `json:"shared_bytes"`
	TaskOwned      int   `json:"taskowned"`
	TaskOwnedBytes int64 `json:"taskowned_bytes"`
	External       int   `json:"external"`
	ExternalBytes  int64 `json:"external_bytes"`
	InlineBytes    int64 `json:"inline_bytes"`
}

// Totals adds up the whole snapshot.
type Totals struct {
	Operators          int   `json:"operators"`
	OperatorsWithState int   `json:"operators_with_state"`
	Subtasks           int   `json:"subtasks"`
	StateSize          int64 `json:"state_size"`
	CheckpointedSize   int64 `json:"checkpointed_size"`
	FileCounts
	// Files is the number of distinct files referenced; Missing those a
	// check found absent (-1 when existence was not checked).
	Files   int `json:"files"`
	Missing int `json:"missing"`
}

// Sizes are a snapshot's three sizes.
type Sizes struct {
	// Checkpointed is what this checkpoint uploaded: for incremental
	// state only its delta (Flink's "checkpointed size").
	Checkpointed int64 `json:"checkpointed_bytes"`
	// Full is the logical size of everything its handles refer to, shared
	// files included (Flink's "full checkpoint data size").
	Full int64 `json:"full_bytes"`
	// OnDisk is measured on storage: the snapshot's own directory (with
	// _metadata and anything else in it) plus every existing file it
	// references outside that directory (shared/, taskowned/, elsewhere),
	// each counted once. -1 when not measured (files not checked).
	OnDisk int64 `json:"on_disk_bytes"`
	// OnDiskOwn and OnDiskReferenced split OnDisk: the directory, and
	// the referenced files outside it (which other checkpoints may share).
	OnDiskOwn        int64 `json:"on_disk_own_bytes"`
	OnDiskReferenced int64 `json:"on_disk_referenced_bytes"`
}

// Options tune Inspect.
type Options struct {
	// UIDs maps operator IDs to uids for snapshots that do not store them.
	UIDs *UIDMapping
	// CheckFiles stats every referenced file on storage.
	CheckFiles bool
	// ListFiles fills Report.Files.
	ListFiles bool
	// Concurrency bounds parallel existence checks (default 16).
	Concurrency int
	// WarnUnmatchedUIDs adds a warning for each uid of UIDs that names no
	// operator of the snapshot (a typo, or an operator added later).
	WarnUnmatchedUIDs bool
}

// Inspect reads the snapshot at uri and reports on it.
func Inspect(ctx context.Context, fsys storage.FS, uri string, opts Options) (*Report, error) {
	m, err := snapshot.Read(ctx, fsys, uri)
	if err != nil {
		return nil, err
	}
	r, err := Examine(ctx, fsys, m, opts)
	if err != nil {
		return nil, err
	}
	r.Path = uri
	return r, nil
}

// Examine reports on a snapshot already read from fsys: Summarize, plus
// the metadata file's size and, when asked, the existence of every
// referenced file.
func Examine(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, opts Options) (*Report, error) {
	r := Summarize(m, opts.UIDs)
	r.Path = m.Location
	if fi, err := fsys.Stat(ctx, m.Location); err == nil {
		r.MetadataBytes = fi.Size
	}
	files := CollectFiles(m)
	for _, f := range files {
		if f.ResolveError != "" {
			r.Warnings = append(r.Warnings, f.ResolveError)
		}
	}
	if opts.CheckFiles {
		if err := CheckFiles(ctx, fsys, files, opts.Concurrency); err != nil {
			return nil, err
		}
		r.Totals.Missing = 0
		unknown := 0
		for _, f := range files {
			switch {
			case f.Exists != nil && !*f.Exists:
				r.Totals.Missing++
			case f.CheckError != "":
				unknown++
			}
		}
		r.Restorable = RestorableYes
		if unknown > 0 {
			r.Restorable = RestorableUnknown
			r.Verdict = fmt.Sprintf("restorable unknown: %d referenced files could not be checked", unknown)
		}
		if r.Totals.Missing > 0 {
			r.Restorable = RestorableNo
			r.Verdict = fmt.Sprintf("cannot be restored: %d of %d referenced files are missing", r.Totals.Missing, len(files))
			r.Warnings = append(r.Warnings, fmt.Sprintf("%d of %d referenced files are missing: the snapshot cannot be restored", r.Totals.Missing, len(files)))
		}
		if unknown > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%d referenced files could not be checked (storage errors; see the file list)", unknown))
		}
		measureDisk(ctx, fsys, r, files)
	}
	if opts.ListFiles {
		r.Files = files
	}
	if opts.UIDs != nil && opts.WarnUnmatchedUIDs {
		for _, e := range opts.UIDs.Unmatched(m) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("uid %q (operator ID %s) is not in this snapshot", e.UID, e.ID))
		}
	}
	return r, nil
}

// Summarize builds the report of a decoded snapshot (no storage access).
func Summarize(m *snapshot.Metadata, uids *UIDMapping) *Report {
	r := &Report{
		Metadata: m.Location, Dir: m.ExclusiveDir, FormatVersion: m.Version, WrittenBy: snapshot.WrittenBy(m.Version),
		CheckpointID: m.CheckpointID, MasterStates: []MasterState{}, Operators: []OperatorReport{}, Warnings: []string{},
	}
	r.Totals.Missing = -1
	r.Restorable = RestorableUnchecked
	r.Sizes.OnDisk, r.Sizes.OnDiskOwn, r.Sizes.OnDiskReferenced = -1, -1, -1
	classify(m, r)
	for _, ms := range m.MasterStates {
		r.MasterStates = append(r.MasterStates, MasterState{Name: ms.Name, Version: ms.Version, Bytes: len(ms.Payload)})
	}
	scopes := newScoper(m)
	for _, op := range m.Operators {
		or := operatorReport(m, op, scopes)
		if op.UID != "" {
			or.UID, or.UIDSource = op.UID, "metadata"
			if uids != nil {
				if u, ok := uids.Lookup(op.ID); ok && u != op.UID {
					r.Warnings = append(r.Warnings, fmt.Sprintf("operator %s: the snapshot records uid %q, the mapping says %q", op.ID, op.UID, u))
				}
			}
		} else if uids != nil {
			if u, ok := uids.Lookup(op.ID); ok {
				or.UID, or.UIDSource = u, "mapping"
			}
		}
		r.Operators = append(r.Operators, or)
		t := &r.Totals
		t.Operators++
		if or.HasState {
			t.OperatorsWithState++
		}
		t.Subtasks += len(op.Subtasks)
		t.StateSize += or.StateSize
		t.CheckpointedSize += or.CheckpointedSize
	}
	files := CollectFiles(m)
	r.Totals.Files = len(files)
	for _, f := range files {
		r.Totals.FileCounts.add(f.Scope, f.Size)
	}
	r.Totals.InlineBytes = m.InlineBytes()
	sz := SizesOf(m)
	r.Sizes.Checkpointed, r.Sizes.Full = sz.Checkpointed, sz.Full
	return r
}

// measureDisk fills the measured size from the checked files (their sizes
// on storage) and one summary of the snapshot's own directory. A failure
// leaves it unmeasured (-1) with a warning: the other numbers still hold.
func measureDisk(ctx context.Context, fsys storage.FS, r *Report, files []FileRef) {
	if r.Dir == "" {
		return
	}
	u, err := storage.Summarize(ctx, fsys, r.Dir)
	if err != nil {
		r.Warnings = append(r.Warnings, "size on disk not measured: "+err.Error())
		return
	}
	var outside int64
	for _, f := range files {
		if f.URI == "" || f.StorageSize == nil || storage.Within(r.Dir, f.URI) {
			continue
		}
		outside += *f.StorageSize
	}
	r.Sizes.OnDiskOwn, r.Sizes.OnDiskReferenced = u.Bytes, outside
	r.Sizes.OnDisk = u.Bytes + outside
}

func (c *FileCounts) add(scope string, size int64) {
	switch scope {
	case ScopeExclusive:
		c.Exclusive++
		c.ExclusiveBytes += size
	case ScopeShared:
		c.Shared++
		c.SharedBytes += size
	case ScopeTaskOwned:
		c.TaskOwned++
		c.TaskOwnedBytes += size
	default:
		c.External++
		c.ExternalBytes += size
	}
}

// classify decides checkpoint vs savepoint: the trailer when present, else
// the directory name, else the handle kinds.
func classify(m *snapshot.Metadata, r *Report) {
	if p, ok, err := m.Properties(); ok {
		r.Kind, r.KindSource, r.TypeName = string(p.Kind), "trailer", p.TypeName
		r.SavepointFormat = string(p.Format)
		return
	} else if err != nil {
		r.Warnings = append(r.Warnings, "unreadable checkpoint properties trailer: "+err.Error())
	}
	if k := snapshot.KindFromName(m.ExclusiveDir); k != snapshot.KindUnknown {
		r.Kind, r.KindSource = string(k), "directory"
		return
	}
	canonical := false
	m.Walk(func(v snapshot.Visit) {
		if v.Handle != nil && v.Handle.Tag() == snapshot.TagSavepointKeyGroups {
			canonical = true
		}
	})
	if canonical {
		r.Kind, r.KindSource, r.SavepointFormat = string(snapshot.KindSavepoint), "handles", string(snapshot.FormatCanonical)
		return
	}
	r.Kind = "unknown"
}

func operatorReport(m *snapshot.Metadata, op *snapshot.OperatorState, scopes *scoper) OperatorReport {
	or := OperatorReport{
		ID: op.ID.String(), Name: op.Name, Parallelism: op.Parallelism, MaxParallelism: op.MaxParallelism,
		StateSize: op.StateSize(), CheckpointedSize: op.CheckpointedSize(), FullyFinished: op.FullyFinished,
		Subtasks: []SubtaskReport{}, StateKinds: []string{},
	}
	kinds := map[string]bool{}
	if op.CoordinatorState != nil {
		or.CoordinatorBytes = op.CoordinatorState.StateSize()
		or.HasState = true
		kinds["coordinator"] = true
	}
	for _, st := range op.Subtasks {
		sr := SubtaskReport{Index: st.Index, Finished: st.Finished, StateSize: st.StateSize(), CheckpointedSize: st.CheckpointedSize(),
			InputChannels: len(st.InputChannels), OutputChannels: len(st.OutputChannels)}
		if st.Finished {
			or.FinishedSubtasks++
		}
		if st.HasState() {
			or.HasState = true
		}
		if st.HasRefCheckpointID {
			id := st.RefCheckpointID
			sr.RefCheckpointID = &id
		}
		sr.ManagedKeyed = keyedInfo(st.ManagedKeyedState, kinds)
		sr.RawKeyed = keyedInfo(st.RawKeyedState, kinds)
		sr.ManagedOperator = operatorInfo(st.ManagedOperatorState, kinds)
		sr.RawOperator = operatorInfo(st.RawOperatorState, kinds)
		for _, c := range append(append([]*snapshot.ChannelHandle{}, st.InputChannels...), st.OutputChannels...) {
			sr.ChannelBytes += c.Size
			kinds["channel"] = true
		}
		or.Subtasks = append(or.Subtasks, sr)
	}
	for k := range kinds {
		or.StateKinds = append(or.StateKinds, k)
	}
	sort.Strings(or.StateKinds)
	// Per-operator file counts (distinct files of this operator).
	seen := map[string]bool{}
	visitFiles(m, op, func(f FileRef) {
		if f.URI == "" {
			or.Files.InlineBytes += f.Size
			return
		}
		if seen[f.URI] {
			return
		}
		seen[f.URI] = true
		or.Files.add(scopes.scope(f.URI), f.Size)
	})
	return or
}

func countFiles(h snapshot.Handle) int {
	n := 0
	var walk func(h snapshot.Handle)
	walk = func(h snapshot.Handle) {
		switch h := h.(type) {
		case *snapshot.FileHandle, *snapshot.RelativeFileHandle, *snapshot.SegmentFileHandle:
			n++
		case *snapshot.KeyGroupsHandle:
			if h.Delegate != nil {
				walk(h.Delegate)
			}
		case *snapshot.IncrementalHandle:
			if h.Meta != nil {
				walk(h.Meta)
			}
			for _, f := range h.Shared {
				walk(f.Handle)
			}
			for _, f := range h.Private {
				walk(f.Handle)
			}
		case *snapshot.ChangelogHandle:
			for _, k := range append(append([]snapshot.KeyedHandle{}, h.Materialized...), h.NonMaterialized...) {
				if k != nil {
					walk(k)
				}
			}
		case *snapshot.ChangelogFileHandle:
			for _, p := range h.Parts {
				if p.Handle != nil {
					walk(p.Handle)
				}
			}
		case *snapshot.OperatorStreamHandle:
			if h.Delegate != nil {
				walk(h.Delegate)
			}
		}
	}
	walk(h)
	return n
}

func keyedInfo(h snapshot.KeyedHandle, kinds map[string]bool) *HandleInfo {
	if h == nil {
		return nil
	}
	hi := &HandleInfo{Tag: uint8(h.Tag()), StateSize: h.StateSize(), CheckpointedSize: snapshot.CheckpointedSize(h), Files: countFiles(h)}
	switch h.(type) {
	case *snapshot.IncrementalHandle:
		hi.Kind = "incremental"
	case *snapshot.KeyGroupsHandle:
		hi.Kind = "key-groups"
		if h.Tag() == snapshot.TagSavepointKeyGroups {
			hi.Kind = "savepoint-key-groups"
		}
	case *snapshot.ChangelogHandle:
		hi.Kind = "changelog"
	case *snapshot.InMemoryChangelogHandle:
		hi.Kind = "changelog-inline"
	case *snapshot.ChangelogFileHandle:
		hi.Kind = "changelog-file"
	}
	if r := h.KeyGroups(); r.Count > 0 {
		hi.KeyGroups = fmt.Sprintf("%d-%d", r.Start, r.End())
	}
	kinds["keyed:"+hi.Kind] = true
	return hi
}

func operatorInfo(h snapshot.OperatorHandle, kinds map[string]bool) *HandleInfo {
	osh, ok := h.(*snapshot.OperatorStreamHandle)
	if !ok || osh == nil {
		return nil
	}
	hi := &HandleInfo{Kind: "operator-state", Tag: uint8(osh.Tag()), StateSize: osh.StateSize(), Files: countFiles(osh)}
	hi.CheckpointedSize = hi.StateSize
	if osh.FileMerging != nil {
		hi.Kind = "file-merging-operator-state"
	}
	for _, s := range osh.States {
		hi.States = append(hi.States, fmt.Sprintf("%s (%s)", s.Name, s.Mode))
		kinds["operator:"+s.Mode.String()] = true
	}
	return hi
}
