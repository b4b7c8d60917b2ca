package inspector

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Snapshot surgery as `ckpt rewrite` and the TUI's inspect screen both
// run it: edit, dry-run against the job it is meant for, write a new
// snapshot (never in place), read it back and check every file it names.

// RewriteRequest is one rewrite of a snapshot.
type RewriteRequest struct {
	// Dst is the new snapshot's directory: it must not exist (or be
	// empty); its parent must.
	Dst   string
	Edits snapshot.Edits
	// Labels name changed operators that store no uid (pre-2.0
	// snapshots) after what the user called them.
	Labels map[snapshot.OperatorID]string
	// Target, if set, is the job the result is meant for: a rewrite it
	// would not resume from is refused before anything is written, and
	// the written snapshot is dry-run again. UIDs name its operators.
	Target *Target
	UIDs   *UIDMapping
	// Link hard-links files where storage allows (same local filesystem).
	Link bool
}

// RewriteReport is what a rewrite did.
type RewriteReport struct {
	Changes []snapshot.Change
	// Refused: the dry run against Target found state without an operator
	// or a restore Flink would refuse; nothing was written (Resume says
	// why).
	Refused bool
	Files   *snapshot.RewriteResult
	// Kept is how many operators the snapshot has after the edits.
	Kept int
	// Resume is the dry run against Target (after writing: of what was
	// written, read back).
	Resume *ResumePlan
}

// RewriteEditError is an edit that does not apply to the snapshot (a
// rename onto an operator that exists): the user's mistake, not storage's.
type RewriteEditError struct{ Err error }

func (e *RewriteEditError) Error() string { return e.Err.Error() }
func (e *RewriteEditError) Unwrap() error { return e.Err }

// RewriteSnapshot applies req to m (as snapshot.Read gives it; m is
// changed) and writes the result to req.Dst.
func RewriteSnapshot(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, req RewriteRequest) (*RewriteReport, error) {
	changes, err := m.Apply(req.Edits)
	if err != nil {
		return nil, &RewriteEditError{err}
	}
	for i := range changes {
		if changes[i].UID == "" {
			changes[i].UID = req.Labels[changes[i].ID]
		}
	}
	rep := &RewriteReport{Changes: changes, Kept: len(m.Operators)}
	if req.Target != nil {
		// Before a byte is copied: a rewrite the job cannot resume from
		// is not worth writing.
		if plan := PlanResume(m, *req.Target, req.UIDs); plan.ExitCode != ExitResumeOK {
			rep.Refused, rep.Resume = true, plan
			return rep, nil
		}
	}
	if rep.Files, err = snapshot.Rewrite(ctx, fsys, m, req.Dst, snapshot.RewriteOptions{Link: req.Link}); err != nil {
		return rep, err
	}
	// What is on storage now, read back: it decodes, every file it names
	// exists, and (with a target) the job resumes from it.
	written, err := snapshot.Read(ctx, fsys, req.Dst)
	if err != nil {
		return rep, fmt.Errorf("the rewritten snapshot %s does not read back: %w", req.Dst, err)
	}
	ex, err := Examine(ctx, fsys, written, Options{CheckFiles: true})
	if err != nil {
		return rep, err
	}
	if ex.Totals.Missing != 0 {
		return rep, fmt.Errorf("the rewritten snapshot %s references %d missing files", req.Dst, ex.Totals.Missing)
	}
	rep.Kept = len(written.Operators)
	if req.Target != nil {
		rep.Resume = PlanResume(written, *req.Target, req.UIDs)
	}
	return rep, nil
}

// NewUIDReassignment is where a rename sends an operator's state: the
// operator ID of uid s (Flink's hash of it), or, for hash:<32 hex>, that
// literal ID (a job that pins it with setUidHash).
func NewUIDReassignment(s string) (snapshot.Reassignment, error) {
	s = strings.TrimSpace(s)
	if hexID, ok := strings.CutPrefix(s, HashPrefix); ok {
		id, err := snapshot.ParseOperatorID(hexID)
		if err != nil {
			return snapshot.Reassignment{}, err
		}
		return snapshot.Reassignment{To: id, Literal: true}, nil
	}
	if s == "" {
		return snapshot.Reassignment{}, errors.New("the new uid is empty")
	}
	return snapshot.Reassignment{To: snapshot.OperatorIDFromUID(s), UID: s}, nil
}
