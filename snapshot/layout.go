package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/storage"
)

// Names Flink gives to the parts of a checkpoint directory:
//
//	<checkpoint-dir>/<job-id>/chk-<n>/_metadata
//	<checkpoint-dir>/<job-id>/shared/      (files several checkpoints reference)
//	<checkpoint-dir>/<job-id>/taskowned/   (owned by task managers)
//	<savepoint-dir>/savepoint-<job-id[:6]>-<12 random hex>/_metadata
const (
	MetadataFileName    = "_metadata"
	CheckpointDirPrefix = "chk-"
	SharedDirName       = "shared"
	TaskOwnedDirName    = "taskowned"
	SavepointDirPrefix  = "savepoint-"
)

// PathKind is what a directory entry is in the snapshot layout.
type PathKind int

const (
	PathOther PathKind = iota
	PathJobDir
	PathCheckpointDir
	PathSavepointDir
	PathSharedDir
	PathTaskOwnedDir
	PathMetadataFile
)

func (k PathKind) String() string {
	return [...]string{"other", "job", "checkpoint", "savepoint", "shared", "taskowned", "metadata"}[k]
}

// KindOfName classifies an entry by its name alone (cheap; no I/O). A
// checkpoint or savepoint directory found this way is complete only if it
// holds `_metadata` (see ListCheckpoints, ListSavepoints).
func KindOfName(name string, isDir bool) PathKind {
	if !isDir {
		if name == MetadataFileName {
			return PathMetadataFile
		}
		return PathOther
	}
	switch {
	case IsJobID(name):
		return PathJobDir
	case name == SharedDirName:
		return PathSharedDir
	case name == TaskOwnedDirName:
		return PathTaskOwnedDir
	}
	if _, ok := ParseCheckpointDirName(name); ok {
		return PathCheckpointDir
	}
	if IsSavepointDirName(name) {
		return PathSavepointDir
	}
	return PathOther
}

// IsJobID reports whether name is a Flink JobID: 32 hex digits.
func IsJobID(name string) bool { return len(name) == 32 && isHex(name) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// CheckpointDirName is "chk-<n>" (no zero padding, as Flink writes it).
func CheckpointDirName(n int64) string { return CheckpointDirPrefix + strconv.FormatInt(n, 10) }

// ParseCheckpointDirName returns n for "chk-<n>".
func ParseCheckpointDirName(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, CheckpointDirPrefix)
	if !ok || s == "" || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// IsSavepointDirName reports whether name has Flink's savepoint directory
// shape: "savepoint-" + 6 hex (start of the job id) + "-" + 12 hex.
func IsSavepointDirName(name string) bool {
	s, ok := strings.CutPrefix(name, SavepointDirPrefix)
	return ok && len(s) == 19 && s[6] == '-' && isHex(s[:6]) && isHex(s[7:])
}

// SavepointJobPrefix is the 6-hex job-id prefix of a savepoint dir name.
func SavepointJobPrefix(name string) (string, bool) {
	if !IsSavepointDirName(name) {
		return "", false
	}
	return name[len(SavepointDirPrefix) : len(SavepointDirPrefix)+6], true
}

// NewSavepointDirName names a new savepoint directory for jobID the way
// Flink does: "savepoint-" + first 6 characters of the job id + "-" + 12
// random hex digits.
func NewSavepointDirName(jobID string) (string, error) {
	if len(jobID) < 6 || !isHex(jobID[:6]) {
		return "", fmt.Errorf("job id %q: want at least 6 hex digits", jobID)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return SavepointDirPrefix + strings.ToLower(jobID[:6]) + "-" + hex.EncodeToString(b[:]), nil
}

// CheckpointDir is one chk-N directory of a job.
type CheckpointDir struct {
	ID  int64
	URI string
	// Complete: `_metadata` exists. A chk-N without it is in progress,
	// failed or aborted and cannot be restored.
	Complete     bool
	MetadataSize int64
	ModTime      time.Time // of `_metadata` when complete, else of the directory
}

// SavepointDir is one savepoint directory.
type SavepointDir struct {
	Name         string
	URI          string
	JobPrefix    string
	Complete     bool
	MetadataSize int64
	ModTime      time.Time
}

// JobDir is one <job-id> directory under a checkpoint root.
type JobDir struct {
	JobID string
	URI   string
}

// eachEntry pages through a listing, skipping unfinished temporary files.
func eachEntry(ctx context.Context, fsys storage.FS, dir string, fn func(storage.FileInfo) error) error {
	l, err := fsys.List(ctx, dir)
	if err != nil {
		return err
	}
	defer l.Close()
	for {
		page, err := l.Next(ctx)
		for _, fi := range page {
			if storage.IsTemporary(fi.Name) {
				continue
			}
			if ferr := fn(fi); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// statMetadata reports whether dir holds a `_metadata` file.
func statMetadata(ctx context.Context, fsys storage.FS, dir string) (storage.FileInfo, bool, error) {
	fi, err := fsys.Stat(ctx, storage.Join(dir, MetadataFileName))
	if storage.IsNotExist(err) {
		return storage.FileInfo{}, false, nil
	}
	if err != nil {
		return storage.FileInfo{}, false, err
	}
	return fi, !fi.IsDir, nil
}

// ListCheckpoints lists the chk-N directories of a job directory, oldest
// (lowest N) first, each with whether it is complete.
func ListCheckpoints(ctx context.Context, fsys storage.FS, jobDir string) ([]CheckpointDir, error) {
	return listCheckpoints(ctx, fsys, jobDir, -1)
}

// RecentCheckpoints lists the newest (highest N) at most n chk-N
// directories of a job directory, newest first, each with whether it is
// complete. Only those n are checked for `_metadata`: a leaking job
// directory can hold thousands.
func RecentCheckpoints(ctx context.Context, fsys storage.FS, jobDir string, n int) ([]CheckpointDir, error) {
	all, err := listCheckpoints(ctx, fsys, jobDir, n)
	slices.Reverse(all)
	return all, err
}

// listCheckpoints lists chk-N directories oldest first; with newest >= 0
// only the newest that many, the only ones whose `_metadata` is checked.
func listCheckpoints(ctx context.Context, fsys storage.FS, jobDir string, newest int) ([]CheckpointDir, error) {
	var out []CheckpointDir
	err := eachEntry(ctx, fsys, jobDir, func(fi storage.FileInfo) error {
		n, ok := ParseCheckpointDirName(fi.Name)
		if !ok || !fi.IsDir {
			return nil
		}
		out = append(out, CheckpointDir{ID: n, URI: storage.Join(jobDir, fi.Name), ModTime: fi.ModTime})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if newest >= 0 && len(out) > newest {
		out = out[len(out)-newest:]
	}
	for i := range out {
		cd := &out[i]
		mfi, complete, err := statMetadata(ctx, fsys, cd.URI)
		if err != nil {
			return nil, err
		}
		if complete {
			cd.Complete, cd.MetadataSize, cd.ModTime = true, mfi.Size, mfi.ModTime
		}
	}
	return out, nil
}

// ErrNoCompleteCheckpoint is returned when a job dir has no chk-N with
// `_metadata`.
var ErrNoCompleteCheckpoint = errors.New("no complete checkpoint (no chk-N holds _metadata)")

// LatestCompleteCheckpoint is the chk-N with the highest N that holds
// `_metadata`; a higher chk-N without it (in progress or failed) is
// skipped, never returned.
func LatestCompleteCheckpoint(ctx context.Context, fsys storage.FS, jobDir string) (CheckpointDir, error) {
	all, err := ListCheckpoints(ctx, fsys, jobDir)
	if err != nil {
		return CheckpointDir{}, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Complete {
			return all[i], nil
		}
	}
	return CheckpointDir{}, fmt.Errorf("%s: %w", jobDir, ErrNoCompleteCheckpoint)
}

// ListJobDirs lists the <job-id> directories under a checkpoint root.
func ListJobDirs(ctx context.Context, fsys storage.FS, root string) ([]JobDir, error) {
	var out []JobDir
	err := eachEntry(ctx, fsys, root, func(fi storage.FileInfo) error {
		if fi.IsDir && IsJobID(fi.Name) {
			out = append(out, JobDir{JobID: strings.ToLower(fi.Name), URI: storage.Join(root, fi.Name)})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].JobID < out[j].JobID })
	return out, err
}

// ListSavepoints lists the savepoint-… directories in dir, newest
// (by `_metadata` time) first.
func ListSavepoints(ctx context.Context, fsys storage.FS, dir string) ([]SavepointDir, error) {
	var out []SavepointDir
	err := eachEntry(ctx, fsys, dir, func(fi storage.FileInfo) error {
		if !fi.IsDir || !IsSavepointDirName(fi.Name) {
			return nil
		}
		sd := SavepointDir{Name: fi.Name, URI: storage.Join(dir, fi.Name), ModTime: fi.ModTime}
		sd.JobPrefix, _ = SavepointJobPrefix(fi.Name)
		mfi, complete, err := statMetadata(ctx, fsys, sd.URI)
		if err != nil {
			return err
		}
		if complete {
			sd.Complete, sd.MetadataSize, sd.ModTime = true, mfi.Size, mfi.ModTime
		}
		out = append(out, sd)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ModTime.Equal(out[j].ModTime) {
			return out[i].ModTime.After(out[j].ModTime)
		}
		return out[i].Name < out[j].Name
	})
	return out, err
}

// JobDirOf is the job directory of a checkpoint: the parent of chk-N. ok is
// false when uri's last element is not a chk-N (a savepoint, a bare
// `_metadata` elsewhere).
func JobDirOf(uri string) (string, bool) {
	if storage.Base(uri) == MetadataFileName {
		uri = storage.Dir(uri)
	}
	if _, ok := ParseCheckpointDirName(storage.Base(uri)); !ok {
		return "", false
	}
	return storage.Dir(uri), true
}

// KindFromName infers checkpoint vs savepoint from a snapshot's directory
// name, for V2/V3 files that carry no properties trailer.
func KindFromName(exclusiveDir string) Kind {
	base := storage.Base(exclusiveDir)
	if _, ok := ParseCheckpointDirName(base); ok {
		return KindCheckpoint
	}
	if IsSavepointDirName(base) || strings.HasPrefix(base, SavepointDirPrefix) {
		return KindSavepoint
	}
	return KindUnknown
}
