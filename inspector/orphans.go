package inspector

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// OrphanReport lists the files under a job's shared/ directory that no
// retained (complete) checkpoint references: leaks from failed or aborted
// checkpoints, or from a JobManager that died before cleaning up.
type OrphanReport struct {
	JobDir string `json:"job_dir"`
	// Checkpoints are the complete chk-N read; Incomplete the chk-N without
	// _metadata (in progress, failed or aborted).
	Checkpoints []int64 `json:"checkpoints"`
	Incomplete  []int64 `json:"incomplete"`
	// Shared is everything under shared/; Referenced the part the
	// checkpoints use; Orphans the rest.
	SharedFiles     int64        `json:"shared_files"`
	SharedBytes     int64        `json:"shared_bytes"`
	ReferencedFiles int64        `json:"referenced_files"`
	ReferencedBytes int64        `json:"referenced_bytes"`
	OrphanFiles     int64        `json:"orphan_files"`
	OrphanBytes     int64        `json:"orphan_bytes"`
	Orphans         []OrphanFile `json:"orphans"`
	// MissingReferenced are files checkpoints reference under shared/ that
	// do not exist (the checkpoint cannot be restored).
	MissingReferenced []string `json:"missing_referenced"`
	Warnings          []string `json:"warnings"`
}

// OrphanFile is one unreferenced file.
type OrphanFile struct {
	URI     string    `json:"uri"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	// MaybeInProgress: newer than the latest complete checkpoint while a
	// newer chk-N without _metadata exists, so it may belong to a
	// checkpoint still being written. Do not delete these while the job runs.
	MaybeInProgress bool `json:"maybe_in_progress"`
}

// refKey normalises a URI for comparing referenced files with listed
// ones: file:/x, file:///x and /x are the same local file; HDFS URIs are
// compared by path (one job directory lives on one NameNode).
func refKey(uri string) string {
	loc, err := storage.Parse(uri)
	if err != nil {
		return uri
	}
	p := path.Clean(filepath.ToSlash(loc.Path))
	if loc.IsLocal() {
		if abs, err := filepath.Abs(filepath.FromSlash(p)); err == nil {
			p = filepath.ToSlash(abs)
		}
		return "local:" + p
	}
	return loc.Scheme + ":" + p
}

// References collects the normalised keys of every file referenced by the
// complete checkpoints of the job directories given (used to protect files
// another job's checkpoints reuse after a CLAIM or LEGACY restore).
func References(ctx context.Context, fsys storage.FS, jobDirs ...string) (map[string]bool, error) {
	idx, err := referrers(ctx, fsys, jobDirs...)
	if err != nil {
		return nil, err
	}
	refs := make(map[string]bool, len(idx))
	for k := range idx {
		refs[k] = true
	}
	return refs, nil
}

// referrers maps the normalised key of every file the complete checkpoints
// of jobDirs reference to the keys of the chk-N directories referencing it.
func referrers(ctx context.Context, fsys storage.FS, jobDirs ...string) (map[string][]string, error) {
	idx := map[string][]string{}
	for _, jd := range jobDirs {
		cks, err := snapshot.ListCheckpoints(ctx, fsys, jd)
		if err != nil {
			return nil, err
		}
		for _, c := range cks {
			if !c.Complete {
				continue
			}
			m, gone, err := readCheckpoint(ctx, fsys, c)
			if err != nil {
				return nil, err
			}
			if gone {
				continue
			}
			by := refKey(c.URI)
			for _, f := range CollectFiles(m) {
				if f.URI == "" {
					continue
				}
				k := refKey(f.URI)
				if l := idx[k]; len(l) == 0 || l[len(l)-1] != by {
					idx[k] = append(l, by)
				}
			}
		}
	}
	return idx, nil
}

// FindOrphans analyses one job directory (<checkpoint-dir>/<job-id>). extra
// holds references from other jobs' checkpoints (see References); may be nil.
func FindOrphans(ctx context.Context, fsys storage.FS, jobDir string, extra map[string]bool) (*OrphanReport, error) {
	r := &OrphanReport{JobDir: jobDir, Checkpoints: []int64{}, Incomplete: []int64{}, Orphans: []OrphanFile{},
		MissingReferenced: []string{}, Warnings: []string{}}
	cks, err := snapshot.ListCheckpoints(ctx, fsys, jobDir)
	if err != nil {
		return nil, err
	}
	refs := map[string]int64{} // key -> recorded size
	refURI := map[string]string{}
	var latest time.Time
	var latestID int64 = -1
	for _, c := range cks {
		if !c.Complete {
			r.Incomplete = append(r.Incomplete, c.ID)
			continue
		}
		r.Checkpoints = append(r.Checkpoints, c.ID)
		m, gone, err := readCheckpoint(ctx, fsys, c)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w (orphans cannot be judged while a retained checkpoint is unreadable)", c.URI, err)
		}
		if gone {
			r.Checkpoints = r.Checkpoints[:len(r.Checkpoints)-1]
			continue
		}
		for _, f := range CollectFiles(m) {
			if f.URI == "" {
				continue
			}
			k := refKey(f.URI)
			refs[k] = f.Size
			refURI[k] = f.URI
		}
		if c.ID > latestID {
			latestID, latest = c.ID, c.ModTime
		}
	}
	if len(r.Checkpoints) == 0 {
		r.Warnings = append(r.Warnings, "no complete checkpoint in "+jobDir+": every file under shared/ counts as unreferenced")
	}
	newerIncomplete := false
	for _, id := range r.Incomplete {
		if id > latestID {
			newerIncomplete = true
		}
	}
	shared := storage.Join(jobDir, snapshot.SharedDirName)
	seen := map[string]bool{}
	err = fsys.Walk(ctx, shared, func(fi storage.FileInfo) error {
		if fi.IsDir {
			return nil
		}
		r.SharedFiles++
		r.SharedBytes += fi.Size
		k := refKey(fi.URI)
		seen[k] = true
		if _, ok := refs[k]; ok || extra[k] {
			r.ReferencedFiles++
			r.ReferencedBytes += fi.Size
			return nil
		}
		of := OrphanFile{URI: fi.URI, Size: fi.Size, ModTime: fi.ModTime}
		of.MaybeInProgress = newerIncomplete && (latest.IsZero() || fi.ModTime.After(latest))
		r.Orphans = append(r.Orphans, of)
		r.OrphanFiles++
		r.OrphanBytes += fi.Size
		return nil
	})
	if err != nil && !storage.IsNotExist(err) {
		return nil, err
	}
	if storage.IsNotExist(err) {
		r.Warnings = append(r.Warnings, "no shared/ directory in "+jobDir)
	}
	sharedKey := refKey(shared)
	for k, u := range refURI {
		if !seen[k] && withinKey(sharedKey, k) {
			r.MissingReferenced = append(r.MissingReferenced, u)
		}
	}
	sort.Strings(r.MissingReferenced)
	if len(r.MissingReferenced) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d files under shared/ are referenced by retained checkpoints but missing", len(r.MissingReferenced)))
	}
	sort.Slice(r.Orphans, func(i, j int) bool { return r.Orphans[i].URI < r.Orphans[j].URI })
	for _, o := range r.Orphans {
		if o.MaybeInProgress {
			r.Warnings = append(r.Warnings, "some unreferenced files are newer than the latest complete checkpoint and a newer chk-N is incomplete: they may belong to a checkpoint in progress")
			break
		}
	}
	return r, nil
}

// readCheckpoint reads a complete chk-N listed a moment ago. gone: its
// _metadata has vanished since (the job subsumed it, or somebody disposed
// it) — it references nothing any more; any other failure is an error.
func readCheckpoint(ctx context.Context, fsys storage.FS, c snapshot.CheckpointDir) (m *snapshot.Metadata, gone bool, err error) {
	m, err = snapshot.Read(ctx, fsys, c.URI)
	if err == nil {
		return m, false, nil
	}
	if _, serr := fsys.Lstat(ctx, storage.Join(c.URI, snapshot.MetadataFileName)); storage.IsNotExist(serr) {
		return nil, true, nil
	}
	return nil, false, err
}

func withinKey(dirKey, k string) bool {
	return len(k) > len(dirKey) && k[:len(dirKey)] == dirKey && k[len(dirKey)] == '/'
}
