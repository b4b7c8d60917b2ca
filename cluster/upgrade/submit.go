package upgrade

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/storage"
)

// submitFailure: the cluster refused the submission (as opposed to not
// answering, which a rerun retries).
type submitFailure struct{ err error }

func (e *submitFailure) Error() string { return e.err.Error() }

func (e *submitFailure) Unwrap() error { return e.err }

// submit runs p from the savepoint under a job ID pinned and journaled
// before the request: a rerun looks that job up and never submits twice
// (the cluster refuses a second job with the same ID anyway).
func (u *Upgrade) submit(ctx context.Context, role string, p *Program, allowNR bool) (string, error) {
	st := u.st
	step := StepSubmit
	if role == roleOld {
		step = StepRollback
	}
	if id := st.submitted[role]; id != "" {
		u.event(step, Resumed, "job %s submitted", id)
		return id, nil
	}
	id := st.requested[role]
	if id != "" {
		// Requested before a crash: did it arrive?
		if _, err := u.C.Job(ctx, id); err == nil {
			if err := u.journal(Record{Step: recSubmitted, Role: role, Job: id}); err != nil {
				return "", err
			}
			u.event(step, Done, "job %s was submitted before the interruption", id)
			return id, nil
		} else if !errors.Is(err, cluster.ErrNotFound) {
			return "", err
		}
	}
	artifact, err := u.artifact(ctx, role, p)
	if err != nil {
		if errors.Is(err, cluster.ErrUnreachable) {
			return "", err
		}
		return "", &submitFailure{err}
	}
	if id == "" {
		id = u.newID()
		if err := u.journal(Record{Step: recSubmitRequested, Role: role, Job: id}); err != nil {
			return "", err
		}
	}
	u.event(step, Running, "submitting %s as job %s, resuming from %s", p, id, st.savepoint)
	req := cluster.RunRequest{EntryClass: p.EntryClass, ProgramArgs: p.Args, Parallelism: p.Parallelism, JobID: id,
		SavepointPath: st.savepoint, AllowNonRestoredState: allowNR, ClaimMode: cluster.NoClaim}
	got, rerr := u.C.RunArtifact(ctx, artifact, req)
	if rerr != nil {
		// The job may exist anyway (Flink lists a job that failed at
		// its start; a lost response).
		if _, err := u.C.Job(ctx, id); err != nil {
			if errors.Is(rerr, cluster.ErrUnreachable) {
				return "", rerr
			}
			u.event(step, Failure, "%v", rerr)
			return "", &submitFailure{rerr}
		}
		got = id
	}
	if got == "" {
		got = id
	}
	if err := u.journal(Record{Step: recSubmitted, Role: role, Job: got}); err != nil {
		return "", err
	}
	u.event(step, Done, "job %s submitted", got)
	return got, nil
}

// artifact is the uploaded program to run: a jar already on the target,
// one uploaded before (journaled), or an upload now.
func (u *Upgrade) artifact(ctx context.Context, role string, p *Program) (string, error) {
	if a := u.st.artifact[role]; a != "" {
		return a, nil
	}
	if p.Kind == JarProgram && p.JarID != "" {
		if arts, err := u.C.Artifacts(ctx); err == nil {
			for _, a := range arts {
				if a.ID == p.JarID {
					return a.ID, nil
				}
			}
		}
		if p.JarPath == "" {
			return "", fmt.Errorf("jar %s is no longer uploaded to the target", p.JarID)
		}
	}
	var data []byte
	switch {
	case p.Kind == SpecProgram:
		data = []byte(p.Spec)
	case p.JarPath != "":
		b, err := storage.ReadRegular(p.JarPath, maxJarBytes)
		if err != nil {
			return "", fmt.Errorf("program: %w", err)
		}
		data = b
	default:
		return "", fmt.Errorf("program %s: nothing to upload", p)
	}
	a, err := u.C.UploadArtifact(ctx, p.Name, strings.NewReader(string(data)))
	if err != nil {
		return "", err
	}
	if err := u.journal(Record{Step: recUploaded, Role: role, Artifact: a.ID}); err != nil {
		return "", err
	}
	return a.ID, nil
}

// maxJarBytes is Flink's rest.server.max-content-length default.
const maxJarBytes = 104857600

// ReadProgramFile reads a local program for an upgrade: a jar (by its
// name or its zip magic) or a job spec.
func ReadProgramFile(p string) (*Program, error) {
	b, err := storage.ReadRegular(p, maxJarBytes)
	if err != nil {
		return nil, fmt.Errorf("program: %w", err)
	}
	if strings.HasSuffix(strings.ToLower(p), ".jar") || strings.HasPrefix(string(b[:min(len(b), 4)]), "PK\x03\x04") {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		return &Program{Kind: JarProgram, Name: filepath.Base(p), JarPath: abs}, nil
	}
	return &Program{Kind: SpecProgram, Name: filepath.Base(p), Spec: string(b)}, nil
}
