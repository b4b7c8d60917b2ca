package checkpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// The engine writes and reads _metadata through the snapshot package's
// codec: one codec for real Flink files and ours.
var (
	encodeMetadata = snapshot.Marshal
	decodeMetadata = snapshot.Unmarshal
)

// LoadMetadata reads the snapshot at path: a chk-N or savepoint directory
// or its _metadata file, local or HDFS. A directory without _metadata is
// an incomplete checkpoint and is refused, never treated as complete.
func LoadMetadata(ctx context.Context, fsys storage.FS, path string) (*snapshot.Metadata, error) {
	uri := strings.TrimRight(path, "/")
	dir := uri
	if storage.Base(uri) == MetadataName {
		dir = storage.Dir(uri)
	} else {
		fi, err := fsys.Stat(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", path, err)
		}
		if fi.IsDir {
			uri = storage.Join(uri, MetadataName)
		} else {
			dir = storage.Dir(uri)
		}
	}
	data, err := storage.ReadAll(ctx, fsys, uri)
	if err != nil {
		if storage.IsNotExist(err) {
			return nil, fmt.Errorf("snapshot %s has no %s: it is not a complete checkpoint or savepoint (an in-progress, failed or aborted checkpoint)", dir, MetadataName)
		}
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	m, err := decodeMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", uri, err)
	}
	m.Location = uri
	m.ExclusiveDir = dir
	return m, nil
}
