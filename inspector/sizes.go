package inspector

import (
	"github.com/ckpt-dev/ckpt/snapshot"
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
