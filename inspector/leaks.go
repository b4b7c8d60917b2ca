package inspector

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Checkpoint directory states in a LeakReport.
const (
	ChkLatest     = "latest"      // the newest complete chk-N
	ChkRetained   = "retained"    // an older complete chk-N (within num-retained, or num-retained unknown)
	ChkBeyond     = "left-behind" // a complete chk-N beyond num-retained: should have been subsumed and deleted
	ChkStale      = "stale"       // no _metadata, older than the newest complete: failed or aborted, left behind
	ChkInProgress = "in-progress" // no _metadata, newer than the newest complete: running (or failed just now)
)

// LeakReport is everything in a job directory that storage holds but no
// retained checkpoint needs — report only, ckpt never deletes from it:
// unreferenced shared/ files (Orphans), chk-N directories left behind, and
// the checkpoint the job was restored from when it lies elsewhere.
type LeakReport struct {
	JobDir      string          `json:"job_dir"`
	Orphans     *OrphanReport   `json:"orphans"`
	Checkpoints []CheckpointDir `json:"checkpoints"`
	// StaleDirs/StaleBytes add up the left-behind and stale chk-N dirs.
	StaleDirs  int   `json:"stale_dirs"`
	StaleBytes int64 `json:"stale_bytes"`
	// DiskBytes is the whole job directory on storage; NeededBytes what
	// its retained checkpoints need of it (their chk-N dirs and the shared
	// files they reference). The difference is what leaked — or is being
	// written right now (in-progress chk-N, taskowned/).
	DiskBytes   int64            `json:"disk_bytes"`
	NeededBytes int64            `json:"needed_bytes"`
	Restored    []RestoredFolder `json:"restored"`
	Warnings    []string         `json:"warnings"`
}

// CheckpointDir is one chk-N of the job with its state and size on disk.
type CheckpointDir struct {
	ID       int64     `json:"id"`
	URI      string    `json:"uri"`
	Complete bool      `json:"complete"`
	State    string    `json:"state"`
	Bytes    int64     `json:"bytes"` // -1 when it could not be measured
	ModTime  time.Time `json:"mod_time"`
}

// RestoredFolder is a snapshot directory outside this job directory that
// the job was restored from: named by the cluster (latest restore) or found
// through files its retained checkpoints still reference there (a CLAIM or
// LEGACY restore reuses the old job's files).
type RestoredFolder struct {
	URI string `json:"uri"`
	// Source: "cluster" (the job's latest restore) or "references".
	Source string `json:"source"`
	Exists bool   `json:"exists"`
	Bytes  int64  `json:"bytes"`
	// ReferencedBy are the retained checkpoints of this job that use files
	// in it; empty means none does any more.
	ReferencedBy []int64 `json:"referenced_by"`
	// Leftover: it exists and no retained checkpoint uses it (FLINK-28597:
	// after a CLAIM restore Flink should have deleted it once subsumed; in
	// NO_CLAIM mode it is the user's to delete).
	Leftover bool   `json:"leftover"`
	Note     string `json:"note"`
}

// LeakOptions tune FindLeaks.
type LeakOptions struct {
	// Retained is the job's state.checkpoints.num-retained when known
	// (0: unknown, every older complete chk-N counts as retained).
	Retained int
	// RestoredFrom is the path the job was last restored from, as the
	// cluster reports it ("" when unknown).
	RestoredFrom string
	// Extra protects files other jobs' checkpoints reference (References).
	Extra map[string]bool
}

// FindLeaks analyses one job directory.
func FindLeaks(ctx context.Context, fsys storage.FS, jobDir string, opts LeakOptions) (*LeakReport, error) {
	orph, err := FindOrphans(ctx, fsys, jobDir, opts.Extra)
	if err != nil {
		return nil, err
	}
	r := &LeakReport{JobDir: jobDir, Orphans: orph, Checkpoints: []CheckpointDir{}, Restored: []RestoredFolder{}, Warnings: []string{}}
	cks, err := snapshot.ListCheckpoints(ctx, fsys, jobDir)
	if err != nil {
		return nil, err
	}
	var latest int64 = -1
	for _, c := range cks {
		if c.Complete && c.ID > latest {
			latest = c.ID
		}
	}
	// Complete ones newest first, to count num-retained.
	rank := 0
	for i := len(cks) - 1; i >= 0; i-- {
		c := cks[i]
		cd := CheckpointDir{ID: c.ID, URI: c.URI, Complete: c.Complete, ModTime: c.ModTime, Bytes: -1}
		switch {
		case c.Complete:
			rank++
			switch {
			case c.ID == latest:
				cd.State = ChkLatest
			case opts.Retained > 0 && rank > opts.Retained:
				cd.State = ChkBeyond
			default:
				cd.State = ChkRetained
			}
		case c.ID > latest:
			cd.State = ChkInProgress
		default:
			cd.State = ChkStale
		}
		if u, err := storage.Summarize(ctx, fsys, c.URI); err == nil {
			cd.Bytes = u.Bytes
		}
		switch cd.State {
		case ChkStale, ChkBeyond:
			r.StaleDirs++
			r.StaleBytes += max(cd.Bytes, 0)
		case ChkLatest, ChkRetained:
			r.NeededBytes += max(cd.Bytes, 0)
		}
		r.Checkpoints = append(r.Checkpoints, cd)
	}
	sort.Slice(r.Checkpoints, func(i, j int) bool { return r.Checkpoints[i].ID < r.Checkpoints[j].ID })
	r.NeededBytes += orph.ReferencedBytes
	if u, err := storage.Summarize(ctx, fsys, jobDir); err == nil {
		r.DiskBytes = u.Bytes
	} else {
		r.DiskBytes = -1
		r.Warnings = append(r.Warnings, "size of the job dir unknown: "+err.Error())
	}
	if err := r.findRestored(ctx, fsys, cks, opts.RestoredFrom); err != nil {
		return nil, err
	}
	return r, nil
}

// snapshotDirOf is the snapshot directory (chk-N or savepoint-…) or the
// job's shared/ directory a referenced file lives in: what a restore left
// in use. ok is false for files in no such place.
func snapshotDirOf(uri string) (string, bool) {
	for d := storage.Dir(uri); d != "" && d != storage.Dir(d); d = storage.Dir(d) {
		b := storage.Base(d)
		if _, chk := snapshot.ParseCheckpointDirName(b); chk || snapshot.IsSavepointDirName(b) || b == snapshot.SharedDirName {
			return d, true
		}
	}
	return "", false
}

// plainLocal spells a local URI (file:/x, file:///x) as its path, the
// way job dirs are usually given; other URIs stay as they are.
func plainLocal(uri string) string {
	if loc, err := storage.Parse(uri); err == nil && loc.IsLocal() {
		return loc.Path
	}
	return uri
}

func (r *LeakReport) findRestored(ctx context.Context, fsys storage.FS, cks []snapshot.CheckpointDir, restoredFrom string) error {
	folders := map[string]*RestoredFolder{}
	add := func(dir, source string) *RestoredFolder {
		dir = plainLocal(dir)
		k := refKey(dir)
		if f, ok := folders[k]; ok {
			return f
		}
		f := &RestoredFolder{URI: dir, Source: source, ReferencedBy: []int64{}}
		folders[k] = f
		return f
	}
	if restoredFrom != "" {
		dir := restoredFrom
		if storage.Base(dir) == snapshot.MetadataFileName {
			dir = storage.Dir(dir)
		}
		if !storage.Within(r.JobDir, dir) {
			add(dir, "cluster")
		}
	}
	for _, c := range cks {
		if !c.Complete {
			continue
		}
		m, gone, err := readCheckpoint(ctx, fsys, c)
		if err != nil {
			return fmt.Errorf("reading %s: %w", c.URI, err)
		}
		if gone {
			continue
		}
		for _, f := range CollectFiles(m) {
			if f.URI == "" || storage.Within(r.JobDir, f.URI) {
				continue
			}
			dir, ok := snapshotDirOf(f.URI)
			if !ok {
				continue
			}
			var rf *RestoredFolder
			for _, x := range folders {
				if storage.Within(x.URI, f.URI) {
					rf = x
				}
			}
			if rf == nil {
				rf = add(dir, "references")
			}
			if n := len(rf.ReferencedBy); n == 0 || rf.ReferencedBy[n-1] != c.ID {
				rf.ReferencedBy = append(rf.ReferencedBy, c.ID)
			}
		}
	}
	for _, f := range folders {
		fi, err := fsys.Stat(ctx, f.URI)
		switch {
		case storage.IsNotExist(err):
			f.Note = "gone (deleted or subsumed)"
		case err != nil:
			f.Note = "could not check: " + err.Error()
		default:
			f.Exists = true
			if fi.IsDir {
				if u, err := storage.Summarize(ctx, fsys, f.URI); err == nil {
					f.Bytes = u.Bytes
				}
			} else {
				f.Bytes = fi.Size
			}
			if len(f.ReferencedBy) > 0 {
				ids := make([]string, len(f.ReferencedBy))
				for i, id := range f.ReferencedBy {
					ids[i] = snapshot.CheckpointDirName(id)
				}
				f.Note = "still used by " + strings.Join(ids, ", ") + ": keep"
			} else {
				f.Leftover = true
				f.Note = "no retained checkpoint uses it: left behind after the restore (CLAIM: Flink should have removed it; NO_CLAIM: yours to delete)"
			}
		}
		r.Restored = append(r.Restored, *f)
	}
	sort.Slice(r.Restored, func(i, j int) bool { return r.Restored[i].URI < r.Restored[j].URI })
	return nil
}
