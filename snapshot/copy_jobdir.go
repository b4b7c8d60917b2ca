package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"

	"github.com/ckpt-dev/ckpt/storage"
)

// Copying a whole job directory (<checkpoint-dir>/<job-id>): every
// complete chk-N is copied to DST/chk-N with the files it references, each
// file once, keeping its place in the job's layout (DST/shared/…,
// DST/taskowned/…, DST/chk-N/…; a file outside the job directory goes to
// DST/external/<8 hex of its directory>/<name>). The copies' _metadata name
// their files absolutely below DST, as Flink's own checkpoints do, so each
// chk-N resumes from DST. Incomplete chk-N (no _metadata) are not copied.
// The rules of Copy hold: resumable, nothing overwritten or deleted, every
// _metadata written only after all the files, each chk-N's last.

// JobDirCopyResult is what CopyJobDir did (or, dry, would do).
type JobDirCopyResult struct {
	CopyResult
	// Checkpoints are the chk-N copied, by their new _metadata.
	Checkpoints []string `json:"checkpoints"`
	// Skipped are the chk-N without _metadata, not copied.
	Skipped []string `json:"skipped"`
}

// IsJobDirWithCheckpoints reports whether dir holds chk-N directories and
// no _metadata of its own: a job directory, not a snapshot.
func IsJobDirWithCheckpoints(ctx context.Context, fsys storage.FS, dir string) bool {
	if _, err := fsys.Stat(ctx, storage.Join(dir, MetadataFileName)); err == nil {
		return false
	}
	cks, err := ListCheckpoints(ctx, fsys, dir)
	return err == nil && len(cks) > 0
}

// CopyJobDir copies the job directory src to dst by the rules above.
func CopyJobDir(ctx context.Context, fsys storage.FS, src, dst string, opts CopyOptions) (*JobDirCopyResult, error) {
	if storage.Within(src, dst) || storage.Within(dst, src) {
		return nil, fmt.Errorf("copy: %s and %s overlap: copy the job directory elsewhere", dst, src)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	cks, err := ListCheckpoints(ctx, fsys, src)
	if err != nil {
		return nil, err
	}
	res := &JobDirCopyResult{CopyResult: CopyResult{Src: src, Dst: dst, DryRun: opts.DryRun}, Checkpoints: []string{}, Skipped: []string{}}
	type chk struct {
		m     *Metadata
		files []fileCopy
		meta  []byte
		at    string
	}
	var chks []chk
	all := map[string]fileCopy{}
	for _, c := range cks {
		if !c.Complete {
			res.Skipped = append(res.Skipped, c.URI)
			continue
		}
		m, err := Read(ctx, fsys, c.URI)
		if err != nil {
			return nil, fmt.Errorf("copy: %w (nothing was copied)", err)
		}
		conv := &Conversion{From: m.Version, To: m.Version}
		if opts.Version != 0 {
			if conv, err = m.ConvertTo(opts.Version); err != nil {
				return nil, fmt.Errorf("copy: %s: %w (nothing was copied)", c.URI, err)
			}
		}
		res.Conversion = mergeConversions(res.Conversion, conv)
		files, err := planFiles(m)
		if err != nil {
			return nil, err
		}
		for i := range files {
			f := &files[i]
			if rel, ok := RelativeTo(src, f.src); ok {
				f.rel, f.outside = rel, false
			} else {
				sum := sha256.Sum256([]byte(storage.Dir(f.src)))
				f.rel, f.outside = path.Join("external", hex.EncodeToString(sum[:4]), storage.Base(f.src)), true
			}
			if prev, ok := all[f.src]; ok && prev.rel != f.rel {
				return nil, fmt.Errorf("copy: %s placed twice", f.src)
			}
			all[f.src] = *f
		}
		chks = append(chks, chk{m: m, files: files, at: storage.Join(dst, CheckpointDirName(c.ID), MetadataFileName)})
	}
	if len(chks) == 0 {
		return nil, fmt.Errorf("copy: %s: %w", src, ErrNoCompleteCheckpoint)
	}
	var files []fileCopy
	taken := map[string]string{}
	for _, f := range all {
		if other, ok := taken[f.rel]; ok {
			return nil, fmt.Errorf("copy: %s and %s would both go to %s", other, f.src, f.rel)
		}
		taken[f.rel] = f.src
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	if err := statFiles(ctx, fsys, files, "copy", "copied"); err != nil {
		return nil, err
	}
	size := map[string]int64{}
	for _, f := range files {
		size[f.src] = f.size
		if f.outside {
			res.Outside++
		}
	}
	for i := range chks {
		c := &chks[i]
		for j := range c.files {
			c.files[j].size = size[c.files[j].src]
			c.files[j].rel = all[c.files[j].src].rel
		}
		if err := repoint(c.m, c.files, dst, true); err != nil {
			return nil, err
		}
		if c.meta, err = Marshal(c.m); err != nil {
			return nil, err
		}
	}

	exists, err := checkCopyDst(ctx, fsys, dst)
	if err != nil {
		return nil, err
	}
	complete := 0
	for _, c := range chks {
		same, err := holdsMetadata(ctx, fsys, c.at, c.meta)
		if err != nil {
			return nil, err
		}
		if same {
			complete++
		}
	}
	res.AlreadyComplete = complete == len(chks)
	if !exists && !opts.DryRun {
		if err := fsys.MkdirAll(ctx, dst); err != nil {
			return nil, err
		}
	}
	var errs []error
	res.Files, errs = copyFiles(ctx, fsys, files, dst, exists, opts)
	res.tally()
	if len(errs) > 0 {
		return res, fmt.Errorf("copy to %s: %w (the files copied stay for a rerun; no chk-N is complete before its _metadata)", dst, errors.Join(errs...))
	}
	for _, c := range chks {
		res.Checkpoints = append(res.Checkpoints, c.at)
		if opts.DryRun {
			continue
		}
		if _, err := fsys.Lstat(ctx, c.at); err == nil {
			continue // the same bytes: checked above
		}
		if err := fsys.MkdirAll(ctx, storage.Dir(c.at)); err != nil {
			return res, err
		}
		if err := Write(ctx, fsys, c.at, c.m); err != nil {
			return res, fmt.Errorf("copy to %s: writing %s: %w (the files stay; a rerun finishes the copy)", dst, c.at, err)
		}
	}
	res.Metadata = storage.Join(dst, "chk-*", MetadataFileName)
	return res, nil
}

// mergeConversions sums the conversions of a job directory's checkpoints:
// the first source version, and each label left out once.
func mergeConversions(a, b *Conversion) *Conversion {
	if a == nil {
		return b
	}
	for _, n := range b.NotKept {
		if !slices.Contains(a.NotKept, n) {
			a.NotKept = append(a.NotKept, n)
		}
	}
	return a
}

// CopyPath copies what src names — a job directory with chk-N (CopyJobDir)
// or a snapshot (its dir or _metadata: Read, then Copy) — to dst: what
// `ckpt cp` and the TUI's browse screen both run. job is set for a job
// directory; res is the copy's result either way.
func CopyPath(ctx context.Context, fsys storage.FS, src, dst string, opts CopyOptions) (res *CopyResult, job *JobDirCopyResult, err error) {
	if IsJobDirWithCheckpoints(ctx, fsys, src) {
		job, err = CopyJobDir(ctx, fsys, src, dst, opts)
		if job != nil {
			res = &job.CopyResult
		}
		return res, job, err
	}
	m, err := Read(ctx, fsys, src)
	if err != nil {
		return nil, nil, err
	}
	res, err = Copy(ctx, fsys, m, dst, opts)
	return res, nil, err
}
