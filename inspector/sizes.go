package inspector

import (
	"context"
	"slices"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// SnapshotSizes are the two sizes every screen shows for a snapshot, as
// Flink's checkpoint statistics do (checkpointed_size, state_size): what
// it uploaded (for incremental state only the delta) and the full size of
// the state it refers to. Neither is the directory's own bytes, which for
// an incremental checkpoint are a few KiB of a many-MiB state.
type SnapshotSizes struct {
	Checkpointed int64 `json:"checkpointed_bytes"`
	Full         int64 `json:"full_bytes"`
}

// SizesOf is the one computation of a snapshot's sizes (the report's
// Sizes and every listing use it).
func SizesOf(m *snapshot.Metadata) SnapshotSizes {
	return SnapshotSizes{Checkpointed: m.CheckpointedSize(), Full: m.StateSize()}
}

// SnapshotEntry is one retained chk-N or savepoint of a job.
type SnapshotEntry struct {
	// Kind is "checkpoint" (a chk-N) or "savepoint".
	Kind string `json:"kind"`
	// ID is the checkpoint id: N of chk-N, or the one in a savepoint's
	// _metadata (0 when it could not be read).
	ID  int64  `json:"id"`
	URI string `json:"uri"`
	// Complete: _metadata exists (a chk-N without it is in progress or
	// failed and cannot be restored).
	Complete      bool      `json:"complete"`
	ModTime       time.Time `json:"mod_time"`
	MetadataBytes int64     `json:"metadata_bytes"`
	// Sizes from the _metadata; zero when incomplete or unreadable.
	Sizes SnapshotSizes `json:"sizes"`
	// Error says why the _metadata could not be read.
	Error string `json:"error,omitempty"`
}

// ListJobSnapshots lists a job's retained chk-N directories under jobDir
// ("" = none) and the given savepoint directories, newest first (by
// checkpoint id, then time), each with its sizes read from its _metadata
// once. A savepoint that cannot be read is listed with its error; only a
// failure to list jobDir is an error.
func ListJobSnapshots(ctx context.Context, fsys storage.FS, jobDir string, savepoints []string) ([]SnapshotEntry, error) {
	var out []SnapshotEntry
	if jobDir != "" {
		chks, err := snapshot.ListCheckpoints(ctx, fsys, jobDir)
		if err != nil {
			return nil, err
		}
		for _, c := range chks {
			e := SnapshotEntry{Kind: string(snapshot.KindCheckpoint), ID: c.ID, URI: c.URI, Complete: c.Complete,
				ModTime: c.ModTime, MetadataBytes: c.MetadataSize}
			if c.Complete {
				readSizes(ctx, fsys, &e)
			}
			out = append(out, e)
		}
	}
	for _, sp := range savepoints {
		e := SnapshotEntry{Kind: string(snapshot.KindSavepoint), URI: sp}
		if fi, err := fsys.Stat(ctx, storage.Join(sp, snapshot.MetadataFileName)); err == nil && !fi.IsDir {
			e.Complete, e.ModTime, e.MetadataBytes = true, fi.ModTime, fi.Size
			readSizes(ctx, fsys, &e)
		} else if err != nil && !storage.IsNotExist(err) {
			e.Error = err.Error()
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b SnapshotEntry) int {
		if a.ID != b.ID {
			return int(min(max(b.ID-a.ID, -1), 1))
		}
		return b.ModTime.Compare(a.ModTime)
	})
	return out, nil
}

func readSizes(ctx context.Context, fsys storage.FS, e *SnapshotEntry) {
	m, err := snapshot.Read(ctx, fsys, e.URI)
	if err != nil {
		e.Error = err.Error()
		return
	}
	e.Sizes = SizesOf(m)
	if e.Kind == string(snapshot.KindSavepoint) {
		e.ID = m.CheckpointID
	}
}
