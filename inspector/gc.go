package inspector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ckpt-dev/ckpt/internal/statedir"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Garbage collection (ckpt gc, the leak screen's G) turns the leak report
// (FindLeaks) into a deletion plan, and carries it out through the one
// disposal rule (snapshot.Dispose, RemoveOwned, RemoveFiles — and their
// trash variants). The guards, each a reason a thing stays:
//
//   - a file any complete checkpoint of any job under the root references
//     stays (a job restored in CLAIM or LEGACY mode uses another job's
//     shared/ files): references are read from every job directory beside
//     the ones collected, and read again just before anything is deleted;
//   - nothing newer than the job's newest complete checkpoint, nothing
//     younger than MinAge (an upload may be in flight), nothing in a chk-N
//     newer than the newest complete one;
//   - no job the target reports running with a checkpoint in progress
//     (HeldBack, filled by the caller from the cluster);
//   - in shared/ and stale chk-N only files named as checkpoints name their
//     uploads (snapshot.IsStateFileName): a file somebody else put there
//     stays, and so does the directory holding it.

// GC plan item kinds.
const (
	GCOrphan   = "orphan"   // a file under shared/ no complete checkpoint references
	GCStale    = "stale"    // a chk-N without _metadata, older than the newest complete one
	GCBeyond   = "beyond"   // a complete chk-N beyond num-retained
	GCRestored = "restored" // a chk-N the job was restored from that nothing uses any more (opt-in)
)

// GCOptions tune PlanGC.
type GCOptions struct {
	// Retained is num-retained for every job (0: per job from JobRetained,
	// else unknown: no complete checkpoint is planned for deletion).
	Retained    int
	JobRetained map[string]int // by job ID, from the cluster
	// RestoredFrom is where the cluster says a job was restored from, by
	// job ID; IncludeRestored plans such a chk-N for deletion when it is
	// outside every job directory collected and nothing references it.
	RestoredFrom    map[string]string
	IncludeRestored bool
	// HeldBack names, by job ID, why a job's directory must not be touched
	// now (running with a checkpoint in progress).
	HeldBack map[string]string
	// MinAge: nothing younger is planned. Now is the clock (zero: time.Now).
	MinAge time.Duration
	Now    time.Time
}

// GCFile is one file a plan item removes.
type GCFile struct {
	URI     string    `json:"uri"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// GCItem is one deletion: a file of shared/ (Dir is shared/), or a chk-N
// directory (Dir) with the files that go with it.
type GCItem struct {
	Kind   string   `json:"kind"`
	JobDir string   `json:"job_dir"`
	Dir    string   `json:"dir"`
	URI    string   `json:"uri"`
	Files  []GCFile `json:"files"`
	Bytes  int64    `json:"bytes"`
	Why    string   `json:"why"`
}

// GCKept is something that looks like garbage but a guard keeps.
type GCKept struct {
	Kind   string `json:"kind"`
	JobDir string `json:"job_dir"`
	URI    string `json:"uri"`
	Bytes  int64  `json:"bytes"`
	Why    string `json:"why"`
}

// GCJob is one job directory of a plan.
type GCJob struct {
	JobDir   string `json:"job_dir"`
	Latest   int64  `json:"latest"` // -1: no complete checkpoint
	Retained int    `json:"retained"`
	HeldBack string `json:"held_back,omitempty"`
}

// GCPlan is what gc would delete, and what it keeps.
type GCPlan struct {
	Root string `json:"root"`
	// Jobs are the job directories collected; Scanned every job directory
	// whose checkpoints protect files (the root's, or the job dir's siblings).
	Jobs     []GCJob  `json:"jobs"`
	Scanned  []string `json:"scanned"`
	Items    []GCItem `json:"items"`
	Kept     []GCKept `json:"kept"`
	Files    int      `json:"files"`
	Bytes    int64    `json:"bytes"`
	MinAge   string   `json:"min_age"`
	Warnings []string `json:"warnings"`
}

// HeldBack reports whether a guard held back a whole job.
func (p *GCPlan) HeldBack() bool {
	for _, j := range p.Jobs {
		if j.HeldBack != "" {
			return true
		}
	}
	return false
}

// GCJobDirs resolves what gc was given: a checkpoint root (its job
// directories) or one job directory. scanned are the job directories
// whose checkpoints protect files: the root's, or the job directory's
// siblings (another job may have been restored from it).
func GCJobDirs(ctx context.Context, fsys storage.FS, uri string) (jobs, scanned []string, err error) {
	fi, err := fsys.Lstat(ctx, uri)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsSymlink() {
		return nil, nil, fmt.Errorf("%s %w", uri, snapshot.ErrLink)
	}
	if !fi.IsDir {
		return nil, nil, fmt.Errorf("%s is a file: give a job directory (<checkpoint-dir>/<job-id>) or a checkpoint root", uri)
	}
	js, err := snapshot.ListJobDirs(ctx, fsys, uri)
	if err != nil {
		return nil, nil, err
	}
	for _, j := range js {
		jobs = append(jobs, j.URI)
	}
	if len(jobs) > 0 {
		return jobs, jobs, nil
	}
	jobs = []string{uri}
	scanned = []string{uri}
	if snapshot.IsJobID(strings.ToLower(storage.Base(uri))) {
		sib, err := snapshot.ListJobDirs(ctx, fsys, storage.Dir(uri))
		if err != nil {
			return nil, nil, err
		}
		for _, j := range sib {
			if refKey(j.URI) != refKey(uri) {
				scanned = append(scanned, j.URI)
			}
		}
	}
	return jobs, scanned, nil
}

// PlanGC plans the garbage collection of uri (a checkpoint root or one job
// directory). It reads only.
func PlanGC(ctx context.Context, fsys storage.FS, uri string, opts GCOptions) (*GCPlan, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	jobs, scanned, err := GCJobDirs(ctx, fsys, uri)
	if err != nil {
		return nil, err
	}
	idx, err := referrers(ctx, fsys, scanned...)
	if err != nil {
		return nil, fmt.Errorf("%w (gc cannot tell what is in use while a complete checkpoint is unreadable)", err)
	}
	p := &GCPlan{Root: uri, Scanned: scanned, Items: []GCItem{}, Kept: []GCKept{}, Warnings: []string{},
		MinAge: opts.MinAge.String()}
	for _, jd := range jobs {
		if err := p.planJob(ctx, fsys, jd, idx, opts); err != nil {
			return nil, err
		}
	}
	for _, it := range p.Items {
		p.Files += len(it.Files)
		p.Bytes += it.Bytes
	}
	return p, nil
}

func (p *GCPlan) planJob(ctx context.Context, fsys storage.FS, jd string, idx map[string][]string, opts GCOptions) error {
	refs := make(map[string]bool, len(idx))
	for k := range idx {
		refs[k] = true
	}
	jobID := strings.ToLower(storage.Base(jd))
	retained := opts.Retained
	if retained <= 0 {
		retained = opts.JobRetained[jobID]
	}
	rep, err := FindLeaks(ctx, fsys, jd, LeakOptions{Retained: retained, RestoredFrom: opts.RestoredFrom[jobID], Extra: refs})
	if err != nil {
		return err
	}
	job := GCJob{JobDir: jd, Latest: -1, Retained: retained, HeldBack: opts.HeldBack[jobID]}
	var latest time.Time
	for _, c := range rep.Checkpoints {
		if c.State == ChkLatest {
			job.Latest, latest = c.ID, c.ModTime
		}
	}
	p.Jobs = append(p.Jobs, job)
	var items []GCItem
	keep := func(kind, uri string, bytes int64, why string) {
		p.Kept = append(p.Kept, GCKept{Kind: kind, JobDir: jd, URI: uri, Bytes: bytes, Why: why})
	}
	young := func(t time.Time) bool { return opts.Now.Sub(t) < opts.MinAge }
	minAge := "younger than --min-age " + opts.MinAge.String() + ": an upload may be in flight"

	shared := storage.Join(jd, snapshot.SharedDirName)
	for _, o := range rep.Orphans.Orphans {
		switch {
		case !snapshot.IsStateFileName(storage.Base(o.URI)):
			keep(GCOrphan, o.URI, o.Size, "not named like a checkpoint's upload: not ckpt's to delete")
		case job.Latest < 0:
			keep(GCOrphan, o.URI, o.Size, "no complete checkpoint: what is in flight cannot be told")
		case o.ModTime.After(latest):
			keep(GCOrphan, o.URI, o.Size, "newer than the newest complete checkpoint: may belong to one in progress")
		case young(o.ModTime):
			keep(GCOrphan, o.URI, o.Size, minAge)
		default:
			items = append(items, GCItem{Kind: GCOrphan, JobDir: jd, Dir: shared, URI: o.URI, Bytes: o.Size,
				Files: []GCFile{{URI: o.URI, Size: o.Size, ModTime: o.ModTime}},
				Why:   "no complete checkpoint of any job references it"})
		}
	}
	// disposeWhole plans chk-N's disposal whole, by its _metadata's (or
	// an interrupted disposal's renamed _metadata's) references.
	disposeWhole := func(dir, why, gone string) error {
		it, err := planDisposal(ctx, fsys, GCBeyond, jd, dir, why)
		switch {
		case vanished(err):
			keep(GCBeyond, dir, 0, gone)
		case err != nil:
			return err
		default:
			if by := usedByOthers(idx, it); by != "" {
				keep(GCBeyond, dir, it.Bytes, "another complete checkpoint uses its files: "+by)
			} else {
				items = append(items, it)
			}
		}
		return nil
	}
	for _, c := range rep.Checkpoints {
		switch c.State {
		case ChkStale:
			if _, err := fsys.Lstat(ctx, storage.Join(c.URI, snapshot.DisposingName)); err == nil {
				// ckpt's own disposal of it was cut short (a kill, a full
				// disk) after _metadata was renamed: finish it, by the
				// renamed _metadata's references, as the first run would.
				if err := disposeWhole(c.URI, "an interrupted disposal ("+snapshot.DisposingName+"): finishing it", "deleted by somebody else meanwhile"); err != nil {
					return err
				}
				continue
			}
			it, why, err := planStale(ctx, fsys, jd, c, opts)
			if err != nil {
				return err
			}
			if why != "" {
				keep(GCStale, c.URI, max(c.Bytes, 0), why)
				continue
			}
			items = append(items, it)
		case ChkBeyond:
			if young(c.ModTime) {
				keep(GCBeyond, c.URI, max(c.Bytes, 0), minAge)
				continue
			}
			why := fmt.Sprintf("complete, but beyond num-retained %d: Flink keeps only the newest %d", retained, retained)
			if err := disposeWhole(c.URI, why, "deleted by somebody else meanwhile (the job subsuming it)"); err != nil {
				return err
			}
		}
	}
	for _, f := range rep.Restored {
		if !f.Leftover {
			continue
		}
		_, isChk := snapshot.ParseCheckpointDirName(storage.Base(f.URI))
		switch {
		case !opts.IncludeRestored:
			keep(GCRestored, f.URI, f.Bytes, "restored from, no longer used: --restored plans it")
		case !isChk:
			keep(GCRestored, f.URI, f.Bytes, "a savepoint: yours to keep or dispose (ckpt savepoints)")
		case p.inScanned(f.URI):
			keep(GCRestored, f.URI, f.Bytes, "a checkpoint of a job under the root: that job's retention decides")
		case referencedWithin(refs, f.URI):
			keep(GCRestored, f.URI, f.Bytes, "a complete checkpoint of a job under the root references files in it")
		default:
			fi, err := fsys.Stat(ctx, storage.Join(f.URI, snapshot.MetadataFileName))
			if err != nil {
				keep(GCRestored, f.URI, f.Bytes, "no readable _metadata: not a complete checkpoint")
				continue
			}
			if young(fi.ModTime) {
				keep(GCRestored, f.URI, f.Bytes, minAge)
				continue
			}
			it, err := planDisposal(ctx, fsys, GCRestored, jd, f.URI, "the job was restored from it and no retained checkpoint uses it")
			if vanished(err) {
				keep(GCRestored, f.URI, 0, "deleted by somebody else meanwhile")
				continue
			}
			if err != nil {
				return err
			}
			if by := usedByOthers(idx, it); by != "" {
				keep(GCRestored, f.URI, it.Bytes, "another complete checkpoint uses its files: "+by)
				continue
			}
			items = append(items, it)
		}
	}
	if job.HeldBack != "" {
		for _, it := range items {
			keep(it.Kind, it.URI, it.Bytes, "held back: "+job.HeldBack)
		}
		return nil
	}
	if retained <= 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s: num-retained unknown (give --retained N, or -m for the target's): no complete checkpoint is planned for deletion", jd))
	}
	p.Items = append(p.Items, items...)
	return nil
}

func (p *GCPlan) inScanned(uri string) bool {
	for _, d := range p.Scanned {
		if storage.Within(d, uri) {
			return true
		}
	}
	return false
}

// vanished: a snapshot planned a moment ago is gone (or lost its
// _metadata) — somebody else is deleting it.
func vanished(err error) bool {
	return err != nil && (storage.IsNotExist(err) || errors.Is(err, snapshot.ErrNotSnapshot))
}

// usedByOthers names a complete checkpoint other than the item's own
// directory that references one of its files ("" when none does).
func usedByOthers(idx map[string][]string, it GCItem) string {
	self := refKey(it.Dir)
	for _, f := range it.Files {
		for _, by := range idx[refKey(f.URI)] {
			if by != self {
				return by
			}
		}
	}
	return ""
}

func referencedWithin(refs map[string]bool, dir string) bool {
	k := refKey(dir)
	for r := range refs {
		if withinKey(k, r) {
			return true
		}
	}
	return false
}

// planStale plans a chk-N without _metadata: its state files go, then the
// directory if nothing else is in it. why is set when it stays whole.
func planStale(ctx context.Context, fsys storage.FS, jd string, c CheckpointDir, opts GCOptions) (GCItem, string, error) {
	it := GCItem{Kind: GCStale, JobDir: jd, Dir: c.URI, URI: c.URI, Files: []GCFile{},
		Why: "no _metadata, older than the newest complete checkpoint: failed or aborted, left behind"}
	if opts.Now.Sub(c.ModTime) < opts.MinAge {
		return it, "younger than --min-age " + opts.MinAge.String() + ": an upload may be in flight", nil
	}
	var foreign int
	var young bool
	err := fsys.Walk(ctx, c.URI, func(fi storage.FileInfo) error {
		switch {
		case fi.URI == c.URI || storage.Within(fi.URI, c.URI):
			return nil
		case fi.IsSymlink():
			foreign++
		case fi.IsDir:
			return nil
		case opts.Now.Sub(fi.ModTime) < opts.MinAge:
			young = true
		case !snapshot.IsStateFileName(fi.Name) || !fi.Mode.IsRegular():
			foreign++
		default:
			it.Files = append(it.Files, GCFile{URI: fi.URI, Size: fi.Size, ModTime: fi.ModTime})
			it.Bytes += fi.Size
		}
		return nil
	})
	if storage.IsNotExist(err) {
		return it, "gone meanwhile", nil
	}
	if err != nil {
		return it, "", err
	}
	if young {
		return it, "holds files younger than --min-age " + opts.MinAge.String() + ": an upload may be in flight", nil
	}
	if foreign > 0 {
		it.Why += fmt.Sprintf(" (%d other %s, and so does the directory)", foreign, plural(foreign, "entry stays", "entries stay"))
	}
	return it, "", nil
}

// planDisposal plans the disposal of a complete chk-N: what
// snapshot.Dispose removes, with sizes.
func planDisposal(ctx context.Context, fsys storage.FS, kind, jd, dir, why string) (GCItem, error) {
	it := GCItem{Kind: kind, JobDir: jd, Dir: dir, URI: dir, Files: []GCFile{}, Why: why}
	files, err := snapshot.DisposalFiles(ctx, fsys, dir)
	if err != nil {
		return it, err
	}
	for _, f := range files {
		fi, err := fsys.Lstat(ctx, f)
		if storage.IsNotExist(err) {
			continue
		}
		if err != nil {
			return it, err
		}
		it.Files = append(it.Files, GCFile{URI: f, Size: fi.Size, ModTime: fi.ModTime})
		it.Bytes += fi.Size
	}
	return it, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// GCRecord is one line of the gc journal: a file removed (or moved to the
// trash) and why.
type GCRecord struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // "removed" or "moved"
	Kind   string    `json:"kind"`
	URI    string    `json:"uri"`
	To     string    `json:"to,omitempty"`
	Size   int64     `json:"size"`
	JobDir string    `json:"job_dir"`
}

// GCExecOptions tune ExecuteGC.
type GCExecOptions struct {
	// Trash, when set, is a directory on the same filesystem the files are
	// moved to (below it, each at its own path) instead of being deleted.
	Trash string
	// Journal is called for each file removed or moved, once its item (a
	// shared/ file, a chk-N) is done and before the next item starts.
	Journal func(GCRecord) error
	// Now is the journal's clock (nil: time.Now).
	Now func() time.Time
}

// GCSkipped is a planned file that stayed, and why.
type GCSkipped struct {
	URI  string `json:"uri"`
	Size int64  `json:"size"`
	Why  string `json:"why"`
}

// GCResult is what ExecuteGC did. RemovedBytes + GoneBytes + the sizes of
// Skipped add up to the plan's Bytes.
type GCResult struct {
	Removed      int                 `json:"removed"`
	RemovedBytes int64               `json:"removed_bytes"`
	Gone         int                 `json:"gone"` // removed by somebody else meanwhile
	GoneBytes    int64               `json:"gone_bytes"`
	Skipped      []GCSkipped         `json:"skipped"`
	DirsRemoved  int                 `json:"dirs_removed"`
	Left         []snapshot.Leftover `json:"left"`
	Errors       []string            `json:"errors"`
}

// ExecuteGC carries out plan: before anything goes, the references of
// every complete checkpoint of the plan's job directories are read again,
// and a file one of them now uses stays; so does a file whose size
// changed. Every deletion goes through the disposal rule. An error stops
// nothing but its own item; they are returned joined.
func ExecuteGC(ctx context.Context, fsys storage.FS, plan *GCPlan, opts GCExecOptions) (*GCResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res := &GCResult{Skipped: []GCSkipped{}, Left: []snapshot.Leftover{}, Errors: []string{}}
	// Job directories made since the plan count too.
	_, scanned, err := GCJobDirs(ctx, fsys, plan.Root)
	if err != nil {
		return res, fmt.Errorf("listing the job directories again before deleting, nothing was deleted: %w", err)
	}
	seen := map[string]bool{}
	for _, d := range scanned {
		seen[refKey(d)] = true
	}
	for _, d := range plan.Scanned {
		if !seen[refKey(d)] {
			scanned = append(scanned, d)
		}
	}
	idx, err := referrers(ctx, fsys, scanned...)
	if err != nil {
		return res, fmt.Errorf("reading the references again before deleting, nothing was deleted: %w", err)
	}
	var errs []error
	for _, it := range plan.Items {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := executeItem(ctx, fsys, it, idx, opts, res); err != nil {
			errs = append(errs, err)
			res.Errors = append(res.Errors, err.Error())
		}
	}
	return res, errors.Join(errs...)
}

func executeItem(ctx context.Context, fsys storage.FS, it GCItem, idx map[string][]string, opts GCExecOptions, res *GCResult) error {
	self := refKey(it.Dir)
	usedElsewhere := func(u string) bool {
		for _, by := range idx[refKey(u)] {
			if by != self {
				return true
			}
		}
		return false
	}
	skip := func(f GCFile, why string) {
		res.Skipped = append(res.Skipped, GCSkipped{URI: f.URI, Size: f.Size, Why: why})
	}
	// Re-check each file: still unreferenced, same size, still there.
	var files []string
	planned := map[string]GCFile{}
	var held bool
	for _, f := range it.Files {
		planned[f.URI] = f
		fi, err := fsys.Lstat(ctx, f.URI)
		switch {
		case storage.IsNotExist(err):
			res.Gone++
			res.GoneBytes += f.Size
			continue
		case err != nil:
			skip(f, err.Error())
			held = true
			continue
		case usedElsewhere(f.URI):
			skip(f, "a complete checkpoint references it now")
			held = true
			continue
		case fi.Size != f.Size:
			skip(f, fmt.Sprintf("changed since the plan (%d bytes, planned %d)", fi.Size, f.Size))
			held = true
			continue
		}
		files = append(files, f.URI)
	}
	if it.Kind == GCStale {
		if _, err := fsys.Lstat(ctx, storage.Join(it.Dir, snapshot.MetadataFileName)); err == nil {
			for _, u := range files {
				skip(planned[u], "its chk-N has _metadata now")
			}
			return nil
		}
	}
	if it.Kind == GCBeyond || it.Kind == GCRestored {
		// Somebody else (Flink subsuming it) may be deleting it right now.
		_, e1 := fsys.Lstat(ctx, storage.Join(it.Dir, snapshot.MetadataFileName))
		_, e2 := fsys.Lstat(ctx, storage.Join(it.Dir, snapshot.DisposingName))
		if storage.IsNotExist(e1) && storage.IsNotExist(e2) {
			for _, u := range files {
				skip(planned[u], "its _metadata is gone: being deleted by somebody else")
			}
			return nil
		}
	}
	if (it.Kind == GCBeyond || it.Kind == GCRestored) && held {
		// A snapshot goes whole or not at all.
		for _, u := range files {
			skip(planned[u], "the snapshot changed since the plan")
		}
		return nil
	}
	if len(files) == 0 && it.Kind == GCOrphan {
		return nil
	}
	trash := ""
	if opts.Trash != "" {
		trash = TrashPath(opts.Trash, it.Dir)
	}
	var d snapshot.Disposal
	var err error
	switch it.Kind {
	case GCOrphan:
		if trash == "" {
			d, err = snapshot.RemoveFiles(ctx, fsys, it.Dir, files, d)
		} else {
			d, err = snapshot.MoveFiles(ctx, fsys, it.Dir, files, trash, d)
		}
	case GCStale:
		if trash == "" {
			d, err = snapshot.RemoveOwned(ctx, fsys, it.Dir, files, d)
		} else {
			d, err = snapshot.MoveOwned(ctx, fsys, it.Dir, files, trash, d)
		}
	default:
		d, err = snapshot.DisposeInto(ctx, fsys, it.Dir, trash)
	}
	removed := map[string]bool{}
	for _, u := range d.Removed {
		removed[u] = true
		if u == storage.Join(it.Dir, snapshot.DisposingName) {
			removed[storage.Join(it.Dir, snapshot.MetadataFileName)] = true
		}
	}
	for _, u := range files {
		f := planned[u]
		switch {
		case removed[u]:
			res.Removed++
			res.RemovedBytes += f.Size
			rec := GCRecord{Time: opts.Now().UTC(), Action: "removed", Kind: it.Kind, URI: u, Size: f.Size, JobDir: it.JobDir}
			if trash != "" {
				rec.Action = "moved"
				if rel, ok := snapshot.RelativeTo(it.Dir, u); ok {
					rec.To = storage.Join(trash, rel)
				}
			}
			if opts.Journal != nil {
				if jerr := opts.Journal(rec); jerr != nil {
					return errors.Join(err, fmt.Errorf("writing the gc journal: %w", jerr))
				}
			}
		case !exists(ctx, fsys, u):
			res.Gone++
			res.GoneBytes += f.Size
		default:
			why := "not removed"
			for _, l := range d.Left {
				if l.URI == u {
					why = l.Why
				}
			}
			if err != nil {
				why = "not removed: " + err.Error()
			}
			skip(f, why)
		}
	}
	if d.DirRemoved {
		res.DirsRemoved++
	}
	if it.Kind == GCStale {
		for _, l := range d.Left {
			if _, ok := planned[l.URI]; !ok {
				res.Left = append(res.Left, l)
			}
		}
	}
	return err
}

func exists(ctx context.Context, fsys storage.FS, uri string) bool {
	_, err := fsys.Lstat(ctx, uri)
	return err == nil
}

// TrashPath is where a file of dir goes below trash: dir's own path
// (without scheme and host) repeated under it, so every file keeps its
// place and the journal's "to" says how to move it back.
func TrashPath(trash, dir string) string {
	p := dir
	if loc, err := storage.Parse(dir); err == nil {
		p = loc.Path
	}
	return storage.Join(trash, strings.TrimLeft(p, "/"))
}

// SortedKept orders what the guards kept by job dir and URI.
func (p *GCPlan) SortedKept() []GCKept {
	out := append([]GCKept(nil), p.Kept...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].JobDir != out[j].JobDir {
			return out[i].JobDir < out[j].JobDir
		}
		return out[i].URI < out[j].URI
	})
	return out
}

// GCJournalPath is where gc appends its journal unless told otherwise:
// gc-journal.jsonl in ckpt's state directory (statedir), beside the
// engine's catalog.
func GCJournalPath() (string, error) {
	p, err := statedir.Path(nil, "gc-journal.jsonl")
	if err != nil {
		return "", fmt.Errorf("gc journal (or give --journal): %w", err)
	}
	return p, nil
}

// OpenGCJournal opens (creating it, and its directory, as needed) the
// local journal file path for appending one JSON line per file removed;
// each line is synced before the next item (a shared/ file, a chk-N) goes.
func OpenGCJournal(path string) (write func(GCRecord) error, closeFn func() error, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("gc journal: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("gc journal %s is not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("gc journal: %w", err)
	}
	write = func(r GCRecord) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := f.Write(append(b, '\n')); err != nil {
			return err
		}
		return f.Sync()
	}
	return write, f.Close, nil
}
