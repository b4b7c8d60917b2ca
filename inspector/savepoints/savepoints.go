// Package savepoints keeps track of the snapshots nobody else tracks: it
// finds every savepoint-… directory under a directory tree (Flink keeps no
// savepoint history of its own), describes each (owning job prefix, age,
// size, format, checkpoint id), previews a count- or age-based retention
// policy, and disposes of a savepoint safely. It reads through storage.FS
// and analyses through inspector; only Dispose writes (deletes).
//
// It is analysis over snapshots, so it sits with inspector, below cluster
// (the embedded engine applies Check before it disposes of a savepoint):
// asking a running cluster to dispose of a savepoint is
// cluster.SavepointDisposal, handed to Dispose by the caller.
package savepoints

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Savepoint is one savepoint directory found on storage. Its JSON field
// names are a contract with scripts (`ckpt savepoints --json`): fields may be
// added, never renamed or removed.
type Savepoint struct {
	Name string `json:"name"`
	URI  string `json:"uri"`
	// JobPrefix is the 6 hex digits of the owning job's id that Flink puts
	// in the directory name; JobIDs/JobNames are the jobs a cluster knows
	// whose id starts with it (filled by MatchJobs; several when ambiguous).
	JobPrefix string   `json:"job_prefix"`
	JobIDs    []string `json:"job_ids,omitempty"`
	JobNames  []string `json:"job_names,omitempty"`
	// Complete: the directory holds _metadata. A savepoint without it was
	// cut short (or is being written) and cannot be restored.
	Complete bool `json:"complete"`
	// ModTime is _metadata's modification time (the directory's when
	// incomplete): when the savepoint completed.
	ModTime time.Time `json:"mod_time"`
	// Bytes and Files are measured on storage: everything under the
	// directory.
	Bytes int64 `json:"bytes"`
	Files int64 `json:"files"`
	// From the header: Format is CANONICAL or NATIVE ("" when the file does
	// not say and the handles do not tell), CheckpointID the id the
	// savepoint was taken as, FormatVersion the _metadata version.
	Format        string `json:"format"`
	CheckpointID  int64  `json:"checkpoint_id"`
	FormatVersion int    `json:"format_version"`
	// Kind is "savepoint" — or "checkpoint" when the header says the
	// directory holds a checkpoint despite its name (then it is never
	// disposed as a savepoint).
	Kind string `json:"kind"`
	// StateBytes is the full logical state size the handles record.
	StateBytes int64 `json:"state_bytes"`
	// Sizes are the two sizes every screen shows (inspector.SizesOf).
	// (Not in the JSON of `ckpt savepoints`: StateBytes is there.)
	Sizes inspector.SnapshotSizes `json:"-"`
	// SelfContained: every file the savepoint references lies inside its
	// own directory, so deleting the directory removes it completely and
	// nothing else.
	SelfContained bool `json:"self_contained"`
	// Error says why the directory could not be read or measured.
	Error string `json:"error,omitempty"`
}

// Options tune Find.
type Options struct {
	// MaxDepth bounds how many directory levels below root are searched
	// (default 4: <root>/<team>/<job>/savepoint-… is common).
	MaxDepth int
	// Concurrency bounds parallel header reads (default 8).
	Concurrency int
}

// skipDirs are directories that never hold savepoints: descending into a
// job's shared/ (a million files, in the worst reports) would be ruinous.
func skipDir(name string) bool {
	if name == snapshot.SharedDirName || name == snapshot.TaskOwnedDirName {
		return true
	}
	if _, ok := snapshot.ParseCheckpointDirName(name); ok {
		return true
	}
	return false
}

// Find lists every savepoint directory at root (root itself when it is
// one) or below it, newest first, each read (header) and measured. A
// savepoint that cannot be read is listed with Error set; only a failure to
// list root itself is an error.
func Find(ctx context.Context, fsys storage.FS, root string, opts Options) ([]Savepoint, error) {
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = 4
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	fi, err := fsys.Stat(ctx, root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir {
		return nil, fmt.Errorf("%s is not a directory (give the directory that holds savepoint-… dirs)", root)
	}
	var found []Savepoint
	if snapshot.IsSavepointDirName(storage.Base(root)) {
		found = append(found, Savepoint{Name: storage.Base(root), URI: root, ModTime: fi.ModTime})
	} else if err := findIn(ctx, fsys, root, opts.MaxDepth, &found, true); err != nil {
		return nil, err
	}
	describeAll(ctx, fsys, found, opts.Concurrency)
	Sort(found)
	return found, nil
}

func findIn(ctx context.Context, fsys storage.FS, dir string, depth int, out *[]Savepoint, top bool) error {
	l, err := fsys.List(ctx, dir)
	if err != nil {
		if top {
			return err
		}
		return nil // a subdirectory we may not read is not the user's question
	}
	defer l.Close()
	var sub []string
	for {
		page, err := l.Next(ctx)
		for _, e := range page {
			if !e.IsDir || storage.IsTemporary(e.Name) {
				continue
			}
			switch {
			case snapshot.IsSavepointDirName(e.Name):
				*out = append(*out, Savepoint{Name: e.Name, URI: storage.Join(dir, e.Name), ModTime: e.ModTime})
			case depth > 1 && !skipDir(e.Name):
				sub = append(sub, storage.Join(dir, e.Name))
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if top {
				return err
			}
			return nil
		}
	}
	for _, s := range sub {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := findIn(ctx, fsys, s, depth-1, out, false); err != nil {
			return err
		}
	}
	return nil
}

func describeAll(ctx context.Context, fsys storage.FS, sps []Savepoint, concurrency int) {
	sem := make(chan struct{}, concurrency)
	done := make(chan struct{})
	for i := range sps {
		go func(sp *Savepoint) {
			sem <- struct{}{}
			defer func() { <-sem; done <- struct{}{} }()
			Describe(ctx, fsys, sp)
		}(&sps[i])
	}
	for range sps {
		<-done
	}
}

// Describe fills sp (Name and URI set) from storage: completeness, header
// facts, size on storage. Problems end up in sp.Error.
func Describe(ctx context.Context, fsys storage.FS, sp *Savepoint) {
	sp.JobPrefix, _ = snapshot.SavepointJobPrefix(sp.Name)
	sp.Kind = string(snapshot.KindSavepoint)
	var errs []string
	if u, err := storage.Summarize(ctx, fsys, sp.URI); err == nil {
		sp.Bytes, sp.Files = u.Bytes, u.Files
	} else {
		errs = append(errs, "size: "+err.Error())
	}
	meta := storage.Join(sp.URI, snapshot.MetadataFileName)
	mfi, err := fsys.Stat(ctx, meta)
	switch {
	case storage.IsNotExist(err):
		errs = append(errs, "no _metadata: incomplete (cut short or still being written)")
	case err != nil:
		errs = append(errs, err.Error())
	default:
		sp.Complete, sp.ModTime = true, mfi.ModTime
		m, err := snapshot.Read(ctx, fsys, meta)
		if err != nil {
			errs = append(errs, err.Error())
			break
		}
		r := inspector.Summarize(m, nil)
		sp.CheckpointID, sp.FormatVersion, sp.Format = r.CheckpointID, r.FormatVersion, r.SavepointFormat
		sp.StateBytes = r.Totals.StateSize
		sp.Sizes = inspector.SizesOf(m)
		if r.Kind == string(snapshot.KindCheckpoint) {
			sp.Kind = r.Kind
		}
		sp.SelfContained = selfContained(m)
	}
	sp.Error = strings.Join(errs, "; ")
}

// selfContained reports whether every file m references lies inside its
// exclusive directory (inline state needs no file).
func selfContained(m *snapshot.Metadata) bool {
	for _, f := range inspector.CollectFiles(m) {
		if f.ResolveError != "" || f.Scope != inspector.ScopeExclusive {
			return false
		}
	}
	return true
}

// Sort orders savepoints newest first (by completion time), then by name.
func Sort(sps []Savepoint) {
	sort.SliceStable(sps, func(i, j int) bool {
		if !sps[i].ModTime.Equal(sps[j].ModTime) {
			return sps[i].ModTime.After(sps[j].ModTime)
		}
		return sps[i].URI < sps[j].URI
	})
}

// Job is what MatchJobs needs to know of a job a cluster runs or ran.
type Job struct{ ID, Name string }

// MatchJobs names each savepoint's owner: the jobs whose id starts with its
// 6-hex prefix.
func MatchJobs(sps []Savepoint, jobs []Job) {
	for i := range sps {
		sps[i].JobIDs, sps[i].JobNames = nil, nil
		p := strings.ToLower(sps[i].JobPrefix)
		if p == "" {
			continue
		}
		for _, j := range jobs {
			if strings.HasPrefix(strings.ToLower(j.ID), p) {
				sps[i].JobIDs = append(sps[i].JobIDs, j.ID)
				sps[i].JobNames = append(sps[i].JobNames, j.Name)
			}
		}
	}
}

// Owner is the job column: the job's name when one job matches, the names
// joined when several do, else the prefix.
func (s Savepoint) Owner() string {
	switch len(s.JobNames) {
	case 0:
		return s.JobPrefix
	case 1:
		return s.JobNames[0]
	}
	return strings.Join(s.JobNames, "|") + " (ambiguous)"
}
