package builtin

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/engine/operator"
)

// FileSink writes "key,value" lines into a directory with exactly-once
// semantics, by two-phase commit on checkpoints:
//
//  1. records go to an in-progress file, hidden (".part-…inprogress");
//  2. on barrier N the file is closed and synced and recorded as pending
//     for N in the sink's operator state;
//  3. when checkpoint N completes, every pending file up to N is renamed to
//     its final name "part-<subtask>-<checkpoint>-<attempt token>";
//  4. on restore, the pending files listed in the restored state are
//     committed (a rename that already happened is recognised), and every
//     other in-progress file of this subtask — written after the restored
//     checkpoint — is deleted. The pending list is union state, so after a
//     rescale every subtask sees all of it (committing twice is harmless)
//     and subtask 0 also cleans up after old subtasks that no longer exist.
//
// So the committed files hold exactly the records of completed
// checkpoints, once each. Without checkpoints the job's final checkpoint
// (at the end of a bounded input) commits everything.
type FileSink struct {
	operator.Base
	Dir string

	ctx     *operator.Context
	token   string
	seq     int
	cur     *os.File
	w       *bufio.Writer
	curName string
	lines   int64
	pending []pendingFile
	buf     []byte
}

type pendingFile struct {
	Checkpoint int64  `json:"chk"`
	InProgress string `json:"inprogress"`
	Final      string `json:"final"`
}

const pendingState = operator.UnionPrefix + "pending"

func (s *FileSink) Open(ctx *operator.Context) error {
	s.ctx = ctx
	// A path that is (or runs through) a regular file fails every attempt
	// the same way.
	if fi, err := os.Stat(s.Dir); err == nil && !fi.IsDir() {
		return failure.Deterministic(fmt.Errorf("file sink: path %s is a file, not a directory", s.Dir))
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			err = failure.Deterministic(err)
		}
		return fmt.Errorf("file sink: %w", err)
	}
	var b [6]byte
	rand.Read(b[:])
	s.token = hex.EncodeToString(b[:])
	keep := map[string]bool{}
	entries := ctx.Restored[pendingState]
	entries = append(entries, ctx.Restored["pending"]...) // issue-4 checkpoints: split state
	for _, e := range entries {
		var p pendingFile
		if err := json.Unmarshal(e, &p); err != nil {
			return failure.Deterministic(fmt.Errorf("file sink: corrupt pending state: %w", err))
		}
		if err := s.commit(p); err != nil {
			return err
		}
		keep[p.InProgress] = true
	}
	// Whatever else this subtask left in progress was written after the
	// restored checkpoint: it will be produced again.
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		owner, ok := inProgressOwner(n)
		if !ok || keep[n] {
			continue
		}
		if owner == ctx.Subtask || (ctx.Subtask == 0 && owner >= ctx.Parallelism) {
			if err := os.Remove(filepath.Join(s.Dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("file sink: %w", err)
			}
		}
	}
	return nil
}

// inProgressOwner is the subtask index in an in-progress file name
// (".part-<subtask>-<token>-<n>.inprogress").
func inProgressOwner(name string) (int, bool) {
	if !strings.HasPrefix(name, ".part-") || !strings.HasSuffix(name, ".inprogress") {
		return 0, false
	}
	rest := name[len(".part-"):]
	i := strings.IndexByte(rest, '-')
	if i <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(rest[:i])
	return n, err == nil
}

// commit makes one pending file final; doing it twice is harmless.
func (s *FileSink) commit(p pendingFile) error {
	from, to := filepath.Join(s.Dir, p.InProgress), filepath.Join(s.Dir, p.Final)
	err := os.Rename(from, to)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		if err != nil {
			return fmt.Errorf("file sink: commit %s: %w", p.Final, err)
		}
		return nil
	}
	if _, err := os.Stat(to); err == nil {
		return nil // committed before the failure
	}
	return fmt.Errorf("file sink: pending file %s of checkpoint %d is gone and was never committed: output lost", p.InProgress, p.Checkpoint)
}

func (s *FileSink) Process(r operator.Record, out operator.Collector) error {
	if s.cur == nil {
		s.seq++
		s.curName = fmt.Sprintf(".part-%d-%s-%d.inprogress", s.ctx.Subtask, s.token, s.seq)
		f, err := os.OpenFile(filepath.Join(s.Dir, s.curName), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
		s.cur, s.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	s.buf = append(s.buf[:0], r.Key...)
	s.buf = append(s.buf, ',')
	s.buf = strconv.AppendInt(s.buf, r.Value, 10)
	s.buf = append(s.buf, '\n')
	_, err := s.w.Write(s.buf)
	s.lines++
	return err
}

func (s *FileSink) Snapshot(id int64) (operator.State, error) {
	if s.cur != nil {
		if err := s.w.Flush(); err != nil {
			return nil, err
		}
		if err := s.cur.Sync(); err != nil {
			return nil, err
		}
		if err := s.cur.Close(); err != nil {
			return nil, err
		}
		s.cur, s.w = nil, nil
		s.pending = append(s.pending, pendingFile{Checkpoint: id, InProgress: s.curName,
			Final: fmt.Sprintf("part-%d-%d-%s", s.ctx.Subtask, id, s.token)})
	}
	st := operator.State{pendingState: nil}
	for _, p := range s.pending {
		b, _ := json.Marshal(p)
		st[pendingState] = append(st[pendingState], b)
	}
	return st, nil
}

func (s *FileSink) CheckpointComplete(id int64) error {
	rest := s.pending[:0]
	for _, p := range s.pending {
		if p.Checkpoint <= id {
			if err := s.commit(p); err != nil {
				return err
			}
			continue
		}
		rest = append(rest, p)
	}
	s.pending = rest
	return nil
}

func (s *FileSink) Close() error {
	if s.cur != nil {
		s.w.Flush()
		err := s.cur.Close()
		s.cur = nil
		return err
	}
	return nil
}

// Stdout prints "key,value" lines as records arrive (at-least-once: a
// restart reprints what followed the restored checkpoint).
type Stdout struct {
	operator.Base
	W      io.Writer
	Prefix string
	buf    []byte
}

var stdoutMu sync.Mutex

func (s *Stdout) Process(r operator.Record, out operator.Collector) error {
	s.buf = append(s.buf[:0], s.Prefix...)
	s.buf = append(s.buf, r.Key...)
	s.buf = append(s.buf, ',')
	s.buf = strconv.AppendInt(s.buf, r.Value, 10)
	s.buf = append(s.buf, '\n')
	w := s.W
	if w == nil {
		w = os.Stdout
	}
	stdoutMu.Lock()
	_, err := w.Write(s.buf)
	stdoutMu.Unlock()
	return err
}

// Discard drops every record (benchmarks).
type Discard struct{ operator.Base }

func (Discard) Process(operator.Record, operator.Collector) error { return nil }

// Fail panics (or errors) when it has seen After records in this attempt:
// fault injection for tests and demos. Only attempts below Attempts fail.
type Fail struct {
	operator.Base
	After    int64
	Attempts int
	Panic    bool
	n        int64
	attempt  int
}

func (f *Fail) Open(ctx *operator.Context) error { f.attempt = ctx.Attempt; return nil }

func (f *Fail) Process(r operator.Record, out operator.Collector) error {
	f.n++
	if f.attempt < f.Attempts && f.n == f.After {
		if f.Panic {
			panic(fmt.Sprintf("injected failure after %d records (attempt %d)", f.n, f.attempt))
		}
		return fmt.Errorf("injected failure after %d records (attempt %d)", f.n, f.attempt)
	}
	out.Collect(r)
	return nil
}
