package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/ckpt-dev/ckpt/storage"
)

// Location is what a user pointed at, resolved to the `_metadata` file and
// the snapshot's exclusive directory (where relative handles live).
type Location struct {
	MetadataURI  string
	ExclusiveDir string
	Size         int64
}

// ErrNotSnapshot is wrapped when a directory has no `_metadata`: an
// in-progress, failed or aborted chk-N, or not a snapshot at all.
var ErrNotSnapshot = errors.New("no _metadata: not a complete checkpoint or savepoint")

// Locate accepts a `_metadata` file, a chk-N directory or a savepoint
// directory (any directory holding `_metadata`), on any storage.FS. A
// `_metadata` that is not a regular file (a named pipe, a device) is
// refused with an error matching storage.ErrNotRegular. As in
// Flink, a pointer naming the file means its parent directory, and a
// pointer naming a directory means that directory.
func Locate(ctx context.Context, fsys storage.FS, uri string) (Location, error) {
	fi, err := fsys.Stat(ctx, uri)
	if err != nil {
		return Location{}, err
	}
	if fi.IsDir {
		mu := storage.Join(uri, MetadataFileName)
		mfi, err := fsys.Stat(ctx, mu)
		if storage.IsNotExist(err) {
			return Location{}, fmt.Errorf("%s: %w (an in-progress or failed chk-N has none)", uri, ErrNotSnapshot)
		}
		if err != nil {
			return Location{}, err
		}
		if mfi.IsDir {
			return Location{}, fmt.Errorf("%s is a directory, not a _metadata file", mu)
		}
		if err := storage.FileTypeError(mu, mfi.Mode); err != nil {
			return Location{}, err
		}
		return Location{MetadataURI: mu, ExclusiveDir: uri, Size: mfi.Size}, nil
	}
	// A named pipe or a device would block the read or never end it: only
	// a regular file, whose size is known, is decoded.
	if err := storage.FileTypeError(uri, fi.Mode); err != nil {
		return Location{}, err
	}
	return Location{MetadataURI: uri, ExclusiveDir: storage.Dir(uri), Size: fi.Size}, nil
}

// OpenDecoder locates uri (see Locate) and returns a streaming Decoder over
// it; Close the decoder when done.
func OpenDecoder(ctx context.Context, fsys storage.FS, uri string) (*Decoder, error) {
	loc, err := Locate(ctx, fsys, uri)
	if err != nil {
		return nil, err
	}
	f, err := fsys.Open(ctx, loc.MetadataURI)
	if err != nil {
		return nil, err
	}
	// The decoder reads at most the size the file had when opened: every
	// count and length is checked against it, and a file still growing
	// cannot keep the read going.
	d := NewDecoder(io.LimitReader(f, f.Size()), DecodeOptions{Name: loc.MetadataURI, Size: f.Size()})
	d.closer = f
	d.Location, d.ExclusiveDir = loc.MetadataURI, loc.ExclusiveDir
	return d, nil
}

// Read decodes the snapshot at uri (a `_metadata` file, a chk-N dir or a
// savepoint dir). The returned Metadata carries Location and ExclusiveDir,
// so its relative handles can be resolved.
func Read(ctx context.Context, fsys storage.FS, uri string) (*Metadata, error) {
	d, err := OpenDecoder(ctx, fsys, uri)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Decode()
}

// Write encodes m and stores it at uri atomically (temporary name, then
// rename), so readers never see a partial `_metadata`: a chk-N directory
// becomes complete in one step.
func Write(ctx context.Context, fsys storage.FS, uri string, m *Metadata) error {
	b, err := Marshal(m)
	if err != nil {
		return err
	}
	// HDFS does not create missing parents on create; the chk-N directory
	// normally exists already, then this is a no-op.
	if err := fsys.MkdirAll(ctx, storage.Dir(uri)); err != nil {
		return err
	}
	return storage.WriteFile(ctx, fsys, uri, b, storage.CreateOptions{Sync: true})
}

// ErrEscapes is wrapped when a relative handle points outside the
// snapshot's directory.
var ErrEscapes = errors.New("relative path escapes the snapshot directory")

// ResolveRelative joins a relative handle's path with the exclusive
// directory. Paths that are empty, absolute, carry a scheme, or climb out
// of the directory with ".." are refused: a relocatable savepoint must only
// name files inside itself.
func ResolveRelative(exclusiveDir, rel string) (string, error) {
	if exclusiveDir == "" {
		return "", fmt.Errorf("relative path %q: no snapshot directory to resolve it against", rel)
	}
	if rel == "" {
		return "", fmt.Errorf("empty relative path")
	}
	if strings.HasPrefix(rel, "/") || strings.HasPrefix(rel, "\\") || strings.Contains(rel, ":") {
		return "", fmt.Errorf("relative path %q is absolute: %w", rel, ErrEscapes)
	}
	clean := path.Clean(strings.ReplaceAll(rel, "\\", "/"))
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("relative path %q: %w %s", rel, ErrEscapes, exclusiveDir)
	}
	return storage.Join(exclusiveDir, clean), nil
}

// FileURI is where a stream handle's bytes live: the absolute path of a
// tag-2 handle, the resolved path of a tag-6 handle (against
// m.ExclusiveDir), the physical file of a segment handle. ok is false for
// handles without a file (inline bytes, empty segments, nil).
func (m *Metadata) FileURI(h StreamHandle) (uri string, ok bool, err error) {
	switch h := h.(type) {
	case *FileHandle:
		return h.Path, true, nil
	case *RelativeFileHandle:
		u, err := ResolveRelative(m.ExclusiveDir, h.RelativePath)
		return u, err == nil, err
	case *SegmentFileHandle:
		return h.PhysicalPath, true, nil
	case *KeyGroupsHandle:
		return m.FileURI(h.Delegate)
	}
	return "", false, nil
}
