package storage

import (
	"context"
	"errors"
)

// NewHDFS connects to the NameNode at authority (host:port), or to the one
// named by fs.defaultFS in the Hadoop configuration when authority is empty.
// Placeholder until the HDFS backend lands (issue 2).
func NewHDFS(ctx context.Context, authority string, opts Options) (FS, error) {
	return nil, errors.New("hdfs backend not implemented yet")
}
