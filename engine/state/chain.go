package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
)

// A keyed state snapshot is a chain: a base image (a Pebble checkpoint:
// its SSTs, MANIFEST, OPTIONS and markers) plus the delta tables written
// since, in order. Every delta holds exactly the entries changed between
// two snapshots (or spilled between them), so an incremental checkpoint
// uploads one new delta — its changed bytes — and references the rest.
// Pebble's own compactions rewrite files the chain never refers to, so
// they cost no upload. Restoring opens the base and ingests the deltas in
// order (later ones win). Once the deltas outgrow the base, or there are
// many, a new base is materialized (a Pebble checkpoint after the latest
// delta) and uploaded in the background (Prefetch); checkpoints switch to
// it once it is uploaded, so no checkpoint's own upload carries it.

// ChainFile is the private file of a snapshot that names its delta tables
// in order. A snapshot directory without one is a plain Pebble checkpoint
// (what ckpt wrote before chains; still restored).
const ChainFile = enginefmt.ChainFile

const chainDirName = ".chain"

// Materialization policy (Options.ChainDeltas, Options.ChainBytes): a
// new base once the deltas since the current one hold as many bytes as its
// tables (a restore then reads at most about twice the state), at least
// DefaultChainBytes, or once there are DefaultChainDeltas of them (bounds
// the files a restore ingests).
const (
	DefaultChainDeltas = 100
	DefaultChainBytes  = 8 << 20
)

// deltaName names delta seq: a table, or a change log (clog.go).
func deltaName(seq uint64, log bool) string { return enginefmt.DeltaName(seq, log) }

type deltaFile struct {
	name string
	seq  uint64
	size int64
}

// image is a base: a Pebble checkpoint in its own directory under .chain.
type image struct {
	dir string
	// seq: the image holds every delta up to seq.
	seq      uint64
	files    []File
	sstBytes int64
	pf       *Prefetch
}

func newImage(dir string, seq uint64) (*image, error) {
	files, err := ListFiles(dir)
	if err != nil {
		return nil, err
	}
	im := &image{dir: dir, seq: seq, files: files}
	var shared []File
	for _, f := range files {
		if f.Shared {
			im.sstBytes += f.Size
			shared = append(shared, f)
		}
	}
	im.pf = &Prefetch{Files: shared}
	return im, nil
}

// chain is the backend's current chain. The task goroutine (spills,
// snapshots) and the asynchronous phase (deltas, materialization) both
// change it; background uploads report into it.
type chain struct {
	mu         sync.Mutex
	dir        string // <db>/.chain
	base       *image // nil: empty base
	deltas     []deltaFile
	deltaBytes int64
	cand       *image // materialized, waiting for its upload
	images     int    // names base images
	// materializations and forced switches, for tests and benchmarks.
	materialized, forced int
	maxDeltas            int
	minBytes             int64
	// full: there is no base and the first delta is the whole state (see
	// rebase).
	full bool
	// rebased counts rebases, for tests and benchmarks.
	rebased int
	// sums caches the checksums of the immutable files stage staged last
	// (by their path under dir), so each is read for its checksum once.
	sums map[string]fileSum
}

func (c *chain) baseBytes() int64 {
	if c.base == nil {
		return 0
	}
	return c.base.sstBytes
}

// due reports whether a new base should be materialized. A chain that is
// one full delta (after a rebase) counts that delta as its base.
func (c *chain) due() bool {
	base, rest := c.baseBytes(), c.deltaBytes
	if c.full && len(c.deltas) > 0 {
		base, rest = c.deltas[0].size, rest-c.deltas[0].size
		if rest == 0 {
			return false
		}
	}
	return len(c.deltas) >= c.maxDeltas || rest >= max(base, c.minBytes)
}

// rebase makes d, a delta that holds the whole state, the chain by
// itself: the base images and older deltas are dropped (their uploaded
// copies stay as long as retained checkpoints reference them).
func (c *chain) rebase(d deltaFile) {
	for _, im := range []*image{c.base, c.cand} {
		if im != nil {
			im.pf.drop()
			os.RemoveAll(im.dir)
		}
	}
	for _, old := range c.deltas {
		os.Remove(filepath.Join(c.dir, old.name))
	}
	c.base, c.cand = nil, nil
	c.deltas = append(c.deltas[:0], d)
	c.deltaBytes = d.size
	c.full = true
	c.rebased++
}

// switchTo makes im the base: deltas it holds are dropped (their uploaded
// copies stay as long as retained checkpoints reference them).
func (c *chain) switchTo(im *image) {
	old := c.base
	c.base, c.cand = im, nil
	c.full = false
	keep := c.deltas[:0]
	c.deltaBytes = 0
	for _, d := range c.deltas {
		if d.seq <= im.seq {
			os.Remove(filepath.Join(c.dir, d.name))
			continue
		}
		keep = append(keep, d)
		c.deltaBytes += d.size
	}
	c.deltas = keep
	if old != nil {
		old.pf.drop()
		os.RemoveAll(old.dir)
	}
}

// stage lays the chain out in dir (which must not exist) for a snapshot:
// hard links to the immutable tables, copies of the base's small private
// files (Pebble may rewrite those when the snapshot is opened), and the
// chain file. A base image still uploading is listed with its Prefetch,
// by its path under .chain, for the uploader to send in the background.
func (c *chain) stage(dir string) ([]File, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("state: staging: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: staging: %w", err)
	}
	// src: where each staged file comes from, for files that never change
	// there (the base image's, the deltas).
	src := map[string]string{}
	if c.base != nil {
		for _, f := range c.base.files {
			src[f.Name] = f.Path
			dst := filepath.Join(dir, f.Name)
			var err error
			if f.Shared {
				err = os.Link(f.Path, dst)
			} else {
				err = copyFile(f.Path, dst)
			}
			if err != nil {
				return nil, fmt.Errorf("state: staging %s: %w", f.Name, err)
			}
		}
	}
	var list []string
	for _, d := range c.deltas {
		if err := os.Link(filepath.Join(c.dir, d.name), filepath.Join(dir, d.name)); err != nil {
			return nil, fmt.Errorf("state: staging %s: %w", d.name, err)
		}
		list = append(list, d.name)
		src[d.name] = filepath.Join(c.dir, d.name)
	}
	if err := os.WriteFile(filepath.Join(dir, ChainFile), enginefmt.EncodeChain(list), 0o644); err != nil {
		return nil, err
	}
	files, err := ListFiles(dir)
	if err != nil {
		return nil, err
	}
	if c.sums, err = writeSums(dir, files, src, c.sums); err != nil {
		return nil, err
	}
	if files, err = ListFiles(dir); err != nil {
		return nil, err
	}
	if c.cand != nil && !c.cand.pf.uploaded() {
		for _, f := range c.cand.pf.Files {
			f.Prefetch = c.cand.pf
			files = append(files, f)
		}
	}
	return files, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// readChain reads the chain file of a snapshot directory: the delta
// tables in order, or nil (no error) for a plain Pebble checkpoint.
func readChain(dir string) ([]deltaFile, bool, error) {
	path := filepath.Join(dir, ChainFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	deltas, err := enginefmt.ParseChain(data)
	if err != nil {
		return nil, false, fmt.Errorf("state: %s %w", path, err)
	}
	out := make([]deltaFile, 0, len(deltas))
	for i, d := range deltas {
		fi, err := os.Stat(filepath.Join(dir, d.Name))
		if err != nil {
			return nil, false, fmt.Errorf("state: %s line %d names a delta table that is missing: %w", path, i+2, err)
		}
		out = append(out, deltaFile{name: d.Name, seq: d.Seq, size: fi.Size()})
	}
	return out, true, nil
}

// hasPebble reports whether dir holds a Pebble database (or checkpoint).
func hasPebble(dir string) bool {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "MANIFEST-") || strings.HasPrefix(e.Name(), "marker.manifest.") {
			return true
		}
	}
	return false
}

// Prefetch is a materialized base image that checkpoints reference only
// once its shared files are uploaded. The upload runs in the background,
// outside any checkpoint's critical path: checkpoint.Upload starts it
// (Start), reports it (Finish) and hands over how to release the uploaded
// copies (drop the registry's pins) once the backend no longer uses the
// image.
type Prefetch struct {
	// Files are the image's shared files.
	Files   []File
	started atomic.Bool
	mu      sync.Mutex
	done    bool
	closed  bool
	release func()
}

// Start claims the upload: true for exactly one caller, until a failed
// upload lets a later checkpoint try again.
func (p *Prefetch) Start() bool { return p.started.CompareAndSwap(false, true) }

// Finish reports the upload. On success, release is called once the image
// is no longer used; on failure the upload may be started again.
func (p *Prefetch) Finish(err error, release func()) {
	p.mu.Lock()
	if err != nil {
		p.mu.Unlock()
		p.started.Store(false)
		return
	}
	if p.closed {
		p.mu.Unlock()
		if release != nil {
			release()
		}
		return
	}
	p.done, p.release = true, release
	p.mu.Unlock()
}

func (p *Prefetch) uploaded() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// drop releases the uploaded copies (the image is superseded or the
// backend closed).
func (p *Prefetch) drop() {
	p.mu.Lock()
	p.closed = true
	r := p.release
	p.release = nil
	p.mu.Unlock()
	if r != nil {
		r()
	}
}
