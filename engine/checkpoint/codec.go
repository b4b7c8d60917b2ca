package checkpoint

import (
	"context"
	"errors"
	"fmt"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// LoadMetadata reads the snapshot at path: a chk-N or savepoint directory
// or its _metadata file, local or HDFS, through the snapshot package (one
// codec for real Flink files and ours). A directory without _metadata is
// an incomplete checkpoint and is refused, never treated as complete.
func LoadMetadata(ctx context.Context, fsys storage.FS, path string) (*snapshot.Metadata, error) {
	m, err := snapshot.Read(ctx, fsys, path)
	if errors.Is(err, snapshot.ErrNotSnapshot) {
		return nil, fmt.Errorf("snapshot %s has no %s: it is not a complete checkpoint or savepoint (an in-progress, failed or aborted checkpoint)", path, MetadataName)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return m, nil
}
