package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/storage"
)

// Copying a snapshot to another place or storage (local ↔ HDFS): the files
// it references are copied below DST and _metadata is rewritten to name
// them relative to DST (absolute into DST for V2), so the copy is
// self-contained — it resumes from its new place and no longer depends on
// the old one or on its job's shared/ directory. _metadata is written last.
//
// A copy is resumable: a rerun into the same DST copies only what is
// missing. A file already at its place is kept when its size and SHA-256
// equal the source's; one that differs was not written by ckpt (ckpt's
// writes appear whole or not at all) and is refused, never overwritten.
// Nothing is ever deleted: a copy cut short keeps what it copied for the
// rerun, and without _metadata it never looks complete.

// CopyOptions tune Copy.
type CopyOptions struct {
	// DryRun decides what would be copied without writing anything.
	DryRun bool
	// Parallel is how many files are copied at once (default 4).
	Parallel int
	// Progress, when set, is called after each file (from one goroutine at a time).
	Progress func(CopyProgress)
	// Version, when not 0, is the format version the copy's _metadata is
	// written in (Metadata.ConvertTo; e.g. Version4 for Flink 1.16–1.20);
	// 0 keeps the source's.
	Version int
}

// CopyProgress is how far a copy is.
type CopyProgress struct {
	Files, FilesDone int
	Bytes, BytesDone int64
}

// Rate is the bytes per second so far, elapsed after the copy started
// (0 before any byte), and ETA the time left at that rate (ok false while
// the rate is unknown): the one estimate every progress display shows.
func (p CopyProgress) Rate(elapsed time.Duration) (perSecond float64, eta time.Duration, ok bool) {
	if elapsed <= 0 || p.BytesDone <= 0 {
		return 0, 0, false
	}
	perSecond = float64(p.BytesDone) / elapsed.Seconds()
	left := max(p.Bytes-p.BytesDone, 0)
	return perSecond, time.Duration(float64(left) / perSecond * float64(time.Second)).Round(time.Second), true
}

// Copy actions of a file.
const (
	CopyActionCopy    = "copy"    // to be copied (dry run)
	CopyActionCopied  = "copied"  // copied now
	CopyActionPresent = "present" // already there: same size and SHA-256
)

// CopiedFile is one file of a copy.
type CopiedFile struct {
	Src    string `json:"src"`
	Dst    string `json:"dst"`
	Size   int64  `json:"size"`
	Action string `json:"action"`
}

// CopyResult is what Copy did (or, dry, would do).
type CopyResult struct {
	Src      string       `json:"src"`
	Dst      string       `json:"dst"`
	Metadata string       `json:"metadata"`
	DryRun   bool         `json:"dry_run"`
	Files    []CopiedFile `json:"files"`
	// Copied (or, dry, to copy) and Present count files; the Bytes fields
	// their sizes.
	Copied       int   `json:"copied"`
	CopiedBytes  int64 `json:"copied_bytes"`
	Present      int   `json:"present"`
	PresentBytes int64 `json:"present_bytes"`
	// Outside counts files that came from outside SRC's directory.
	Outside int `json:"outside"`
	// AlreadyComplete: DST already held this very _metadata.
	AlreadyComplete bool `json:"already_complete"`
	// Conversion is the source's and the copy's format versions and, when
	// they differ, the labels the copy's version does not keep.
	Conversion *Conversion `json:"format,omitempty"`
}

// tally counts Files into Copied and Present.
func (res *CopyResult) tally() {
	for _, f := range res.Files {
		switch f.Action {
		case CopyActionCopy, CopyActionCopied:
			res.Copied++
			res.CopiedBytes += f.Size
		case CopyActionPresent:
			res.Present++
			res.PresentBytes += f.Size
		}
	}
}

// holdsMetadata says whether at already holds exactly meta: false when
// there is no file, an error when there is another snapshot's _metadata
// (a copy never overwrites one).
func holdsMetadata(ctx context.Context, fsys storage.FS, at string, meta []byte) (bool, error) {
	switch old, err := storage.ReadAll(ctx, fsys, at); {
	case err == nil && bytes.Equal(old, meta):
		return true, nil
	case err == nil:
		return false, fmt.Errorf("copy: %s already holds another snapshot's _metadata; nothing was copied", at)
	case storage.IsNotExist(err):
		return false, nil
	default:
		return false, err
	}
}

// Copy copies the snapshot m (as Read, so it carries its location) to dst
// by the rules above. m's handles are changed to point into dst.
func Copy(ctx context.Context, fsys storage.FS, m *Metadata, dst string, opts CopyOptions) (*CopyResult, error) {
	if m.ExclusiveDir == "" {
		return nil, errors.New("copy: the snapshot has no directory (read it with snapshot.Read)")
	}
	if storage.Within(m.ExclusiveDir, dst) || storage.Within(dst, m.ExclusiveDir) {
		return nil, fmt.Errorf("copy: %s and %s overlap: copy the snapshot elsewhere", dst, m.ExclusiveDir)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	res := &CopyResult{Src: m.ExclusiveDir, Dst: dst, Metadata: storage.Join(dst, MetadataFileName), DryRun: opts.DryRun}
	res.Conversion = &Conversion{From: m.Version, To: m.Version}
	if opts.Version != 0 {
		c, err := m.ConvertTo(opts.Version)
		if err != nil {
			return nil, fmt.Errorf("copy: %w (nothing was copied)", err)
		}
		res.Conversion = c
	}
	files, err := planFiles(m)
	if err != nil {
		return nil, err
	}
	if err := statFiles(ctx, fsys, files, "copy", "copied"); err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.outside {
			res.Outside++
		}
	}
	if err := repoint(m, files, dst, false); err != nil {
		return nil, err
	}
	meta, err := Marshal(m)
	if err != nil {
		return nil, err
	}
	m.Location, m.ExclusiveDir = res.Metadata, dst

	exists, err := checkCopyDst(ctx, fsys, dst)
	if err != nil {
		return nil, err
	}
	if exists {
		if res.AlreadyComplete, err = holdsMetadata(ctx, fsys, res.Metadata, meta); err != nil {
			return nil, err
		}
	} else if !opts.DryRun {
		if err := fsys.MkdirAll(ctx, dst); err != nil {
			return nil, err
		}
	}

	var errs []error
	res.Files, errs = copyFiles(ctx, fsys, files, dst, exists, opts)
	res.tally()
	if len(errs) > 0 {
		msg := "nothing was copied"
		if res.Copied > 0 {
			msg = fmt.Sprintf("%d files were copied and stay for a rerun, which copies only what is missing; without _metadata the copy does not look complete", res.Copied)
		}
		return res, fmt.Errorf("copy to %s: %w (%s)", dst, errors.Join(errs...), msg)
	}
	if opts.DryRun || res.AlreadyComplete {
		return res, nil
	}
	if err := Write(ctx, fsys, res.Metadata, m); err != nil {
		return res, fmt.Errorf("copy to %s: writing _metadata: %w (the files stay; a rerun finishes the copy)", dst, err)
	}
	return res, nil
}

// copyFiles decides, then copies, file by file, opts.Parallel at a time,
// each to dst/<its rel>. It returns the files it reached (in order) and
// the errors met; a cancelled context stops it between files.
func copyFiles(ctx context.Context, fsys storage.FS, files []fileCopy, dst string, exists bool, opts CopyOptions) ([]CopiedFile, []error) {
	out := make([]CopiedFile, len(files))
	var total int64
	for _, f := range files {
		total += f.size
	}
	var (
		mu   sync.Mutex
		prog = CopyProgress{Files: len(files), Bytes: total}
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, opts.Parallel)
	)
	for i, f := range files {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			to := storage.Join(dst, f.rel)
			action, err := copyOne(ctx, fsys, f, to, exists, opts.DryRun)
			mu.Lock()
			defer mu.Unlock()
			out[i] = CopiedFile{Src: f.src, Dst: to, Size: f.size, Action: action}
			if err != nil {
				errs = append(errs, err)
				return
			}
			prog.FilesDone++
			prog.BytesDone += f.size
			if opts.Progress != nil {
				opts.Progress(prog)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	done := out[:0]
	for _, f := range out {
		if f.Src != "" { // not reached when cancelled
			done = append(done, f)
		}
	}
	return done, errs
}

// checkCopyDst: dst is absent (its parent must exist) or a directory that
// is not a link.
func checkCopyDst(ctx context.Context, fsys storage.FS, dst string) (exists bool, err error) {
	fi, err := fsys.Lstat(ctx, dst)
	switch {
	case err == nil && fi.IsSymlink():
		return false, fmt.Errorf("%s %w", dst, ErrLink)
	case err == nil && !fi.IsDir:
		return false, fmt.Errorf("%s exists and is not a directory", dst)
	case err == nil:
		return true, nil
	case !storage.IsNotExist(err):
		return false, err
	}
	pfi, err := fsys.Stat(ctx, storage.Dir(dst))
	if err != nil {
		return false, fmt.Errorf("the parent of %s: %w (ckpt creates only the destination directory itself)", dst, err)
	}
	if !pfi.IsDir {
		return false, fmt.Errorf("the parent of %s is not a directory", dst)
	}
	return false, nil
}

// copyOne copies f to to unless it is already there with the same size
// and SHA-256; a different file there is refused.
func copyOne(ctx context.Context, fsys storage.FS, f fileCopy, to string, dstExists, dry bool) (string, error) {
	if dstExists {
		fi, err := fsys.Lstat(ctx, to)
		switch {
		case err == nil && (fi.IsDir || fi.IsSymlink() || fi.Size != f.size):
			return "", fmt.Errorf("%s exists and is not a copy of %s (ckpt never overwrites a file it did not write)", to, f.src)
		case err == nil:
			a, err1 := fileSHA256(ctx, fsys, f.src)
			b, err2 := fileSHA256(ctx, fsys, to)
			if err := errors.Join(err1, err2); err != nil {
				return "", err
			}
			if a != b {
				return "", fmt.Errorf("%s exists with the size of %s but other bytes (ckpt never overwrites a file it did not write)", to, f.src)
			}
			return CopyActionPresent, nil
		case !storage.IsNotExist(err):
			return "", err
		}
	}
	if dry {
		return CopyActionCopy, nil
	}
	if err := fsys.MkdirAll(ctx, storage.Dir(to)); err != nil {
		return "", err
	}
	if _, err := transfer(ctx, fsys, f.src, to, f.size, false); err != nil {
		return "", err
	}
	return CopyActionCopied, nil
}

func fileSHA256(ctx context.Context, fsys storage.FS, uri string) ([32]byte, error) {
	var sum [32]byte
	f, err := fsys.Open(ctx, uri)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("reading %s: %w", uri, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
