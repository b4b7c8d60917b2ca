package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/engine/state"
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

// CorruptFileError is a file of a snapshot that failed verification on
// restore, named by its place in storage (under shared/, chk-N/ or the
// savepoint directory), never by a local copy.
type CorruptFileError struct {
	Path   string
	Reason string
}

func (e *CorruptFileError) Error() string { return "snapshot file " + e.Path + " " + e.Reason }

// corrupt is a CorruptFileError, which no restart cures.
func corrupt(path, reason string) error {
	return failure.Deterministic(&CorruptFileError{Path: path, Reason: reason})
}

// RestoreError marks the restore failures every attempt would repeat as
// deterministic: a file that fails verification or is missing, a handle
// whose relative path escapes its snapshot. Anything else (storage
// unreachable, a timeout) is left to the restart strategy.
func RestoreError(err error) error {
	var cf *CorruptFileError
	var sf *state.CorruptFileError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cf), errors.As(err, &sf), errors.Is(err, fs.ErrNotExist), errors.Is(err, snapshot.ErrEscapes):
		return failure.Deterministic(err)
	}
	return err
}

// nameSumTag marks a file whose name carries its CRC-32C (8 hex digits
// after the tag): files ckpt writes whole into a snapshot, outside any
// keyed state's checksum file (operator state streams above the inline
// threshold). The name is in the handle, which Flink reads as any path.
const nameSumTag = ".crc32c-"

// ChecksummedName is a new unique file name for data that records its
// CRC-32C.
func ChecksummedName(data []byte) string {
	return fmt.Sprintf("%s%s%08x", NewHandleID(), nameSumTag, state.Checksum(data))
}

// nameSum is the checksum a file's name records (ok false for names
// without one: files written before ckpt recorded checksums).
func nameSum(uri string) (uint32, bool) {
	i := strings.LastIndex(uri, nameSumTag)
	if i < 0 || len(uri)-i-len(nameSumTag) != 8 || strings.ContainsAny(uri[i:], `/\`) {
		return 0, false
	}
	v, err := strconv.ParseUint(uri[i+len(nameSumTag):], 16, 32)
	return uint32(v), err == nil
}

// ReadStreamVerified is ReadStream that checks the bytes of a file whose
// name records its checksum, and classifies failures (RestoreError).
func ReadStreamVerified(ctx context.Context, fsys storage.FS, h snapshot.StreamHandle, exclusiveDir string) ([]byte, error) {
	data, err := ReadStream(ctx, fsys, h, exclusiveDir)
	if err != nil {
		return nil, RestoreError(err)
	}
	uri, err := StreamURI(h, exclusiveDir)
	if err != nil {
		return nil, RestoreError(err)
	}
	if b, inline := h.(*snapshot.ByteStreamHandle); inline {
		// State small enough to live inside _metadata: the handle's name
		// records its checksum as a file's name does.
		if want, ok := nameSum(b.Name); ok {
			if got := state.Checksum(data); got != want {
				where := storage.Join(exclusiveDir, snapshot.MetadataFileName) + " (inline state " + b.Name + ")"
				return nil, corrupt(where, fmt.Sprintf("is corrupt: CRC-32C %08x, its handle records %08x", got, want))
			}
		}
		return data, nil
	}
	if want, ok := nameSum(uri); ok {
		if got := state.Checksum(data); got != want {
			return nil, corrupt(uri, fmt.Sprintf("is corrupt: CRC-32C %08x, its name records %08x", got, want))
		}
	}
	return data, nil
}

// VerifyKeyed checks the files of an incremental keyed handle, downloaded
// into dir (RestoreKeyed), against the checksum file among them
// (state.SumsFile); a failure names the file in storage.
func VerifyKeyed(h *snapshot.IncrementalHandle, exclusiveDir, dir string) error {
	err := state.VerifySnapshot(dir)
	var sf *state.CorruptFileError
	if !errors.As(err, &sf) {
		return RestoreError(err)
	}
	where := func(local string) string {
		for _, group := range [][]snapshot.NamedHandle{h.Shared, h.Private} {
			for _, f := range group {
				if f.LocalName == local {
					if uri, err := StreamURI(f.Handle, exclusiveDir); err == nil && uri != "" {
						return uri
					}
				}
			}
		}
		return ""
	}
	uri := where(sf.File)
	if uri == "" {
		// Recorded in the checksum file but not in the handle.
		uri = fmt.Sprintf("%s (listed in %s)", sf.File, where(state.SumsFile))
	}
	return corrupt(uri, sf.Reason)
}
