package inspector

import (
	"context"
	"sort"
	"sync"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// File scopes: where a referenced file lives relative to the snapshot.
const (
	ScopeExclusive = "exclusive" // inside the snapshot's own directory (chk-N/, savepoint-…/)
	ScopeShared    = "shared"    // the job's shared/ directory (incremental SSTs, changelog)
	ScopeTaskOwned = "taskowned" // the job's taskowned/ directory
	ScopeExternal  = "external"  // anywhere else (e.g. another job's checkpoint after a restore)
)

// FileRef is one distinct file a snapshot references.
type FileRef struct {
	URI string `json:"uri"` // resolved location
	// Stored is the path as written in _metadata when it differs from URI
	// (a relative handle's bare name).
	Stored string `json:"stored,omitempty"`
	Scope  string `json:"scope"`
	// Role: data, meta, shared, private, changelog, channel (see snapshot.Role).
	Role string `json:"role"`
	// Size is the state size the handles record for this file (summed over
	// segments of a merged file).
	Size int64 `json:"size"`
	// Refs is how many handles reference the file.
	Refs int `json:"refs"`
	// Operators are the IDs of the operators whose state lives in the file.
	Operators []string `json:"operators"`
	// Exists and StorageSize are filled by CheckFiles; nil when unchecked
	// or when the check could not tell (CheckError says why).
	Exists      *bool  `json:"exists,omitempty"`
	StorageSize *int64 `json:"storage_size,omitempty"`
	CheckError  string `json:"check_error,omitempty"`
	// ResolveError is set when a relative path could not be resolved (e.g.
	// it escapes the snapshot directory); URI is then empty.
	ResolveError string `json:"resolve_error,omitempty"`

	segment bool // a segment of a merged physical file (sizes add up)
}

// scoper classifies URIs against the snapshot's directories.
type scoper struct {
	exclusive, shared, taskowned string
}

func newScoper(m *snapshot.Metadata) *scoper {
	s := &scoper{exclusive: m.ExclusiveDir}
	if job, ok := snapshot.JobDirOf(m.ExclusiveDir); ok {
		s.shared = storage.Join(job, snapshot.SharedDirName)
		s.taskowned = storage.Join(job, snapshot.TaskOwnedDirName)
	}
	return s
}

func (s *scoper) scope(uri string) string {
	switch {
	case s.exclusive != "" && storage.Within(s.exclusive, uri):
		return ScopeExclusive
	case s.shared != "" && storage.Within(s.shared, uri):
		return ScopeShared
	case s.taskowned != "" && storage.Within(s.taskowned, uri):
		return ScopeTaskOwned
	}
	return ScopeExternal
}

// visitFiles reports each file-backed stream handle of op (URI resolved) and
// each inline handle (URI "").
func visitFiles(m *snapshot.Metadata, op *snapshot.OperatorState, fn func(FileRef)) {
	one := &snapshot.Metadata{Operators: []*snapshot.OperatorState{op}, ExclusiveDir: m.ExclusiveDir}
	one.Walk(func(v snapshot.Visit) {
		h, ok := v.Handle.(snapshot.StreamHandle)
		if !ok {
			return
		}
		if _, kg := h.(*snapshot.KeyGroupsHandle); kg {
			return // its delegate is visited on its own
		}
		role := string(v.Role)
		if role == "" {
			role = string(snapshot.RoleData)
		}
		ref := FileRef{Role: role, Size: h.StateSize(), Refs: 1, Operators: []string{op.ID.String()}}
		switch h := h.(type) {
		case *snapshot.ByteStreamHandle:
			fn(ref)
			return
		case *snapshot.RelativeFileHandle:
			ref.Stored = h.RelativePath
		case *snapshot.SegmentFileHandle:
			ref.segment = true
		case *snapshot.FileHandle:
		default:
			return // empty segments
		}
		uri, ok, err := one.FileURI(h)
		if err != nil {
			ref.ResolveError = err.Error()
		} else if !ok {
			return
		}
		ref.URI = uri
		if ref.URI == "" && ref.ResolveError == "" {
			return
		}
		fn(ref)
	})
}

// CollectFiles lists the distinct files m references, sorted by URI, with
// their scope and the operators using them. Unresolvable relative paths
// appear with ResolveError set.
func CollectFiles(m *snapshot.Metadata) []FileRef {
	s := newScoper(m)
	byURI := map[string]*FileRef{}
	var bad []FileRef
	for _, op := range m.Operators {
		visitFiles(m, op, func(f FileRef) {
			if f.ResolveError != "" {
				f.Scope = ScopeExternal
				bad = append(bad, f)
				return
			}
			if f.URI == "" {
				return
			}
			if e, ok := byURI[f.URI]; ok {
				e.Refs++
				if f.segment {
					e.Size += f.Size // segments of one merged file
				}
				if e.Operators[len(e.Operators)-1] != f.Operators[0] {
					e.Operators = append(e.Operators, f.Operators[0])
				}
				return
			}
			f.Scope = s.scope(f.URI)
			byURI[f.URI] = &f
		})
	}
	out := make([]FileRef, 0, len(byURI)+len(bad))
	for _, f := range byURI {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return append(out, bad...)
}

// CheckFiles stats every file on storage, concurrency at a time (default
// 16), and records whether it exists and its size there. Errors other than
// "does not exist" (an unreachable NameNode, permissions) are recorded per
// file; only a cancelled context stops the check.
func CheckFiles(ctx context.Context, fsys storage.FS, files []FileRef, concurrency int) error {
	if concurrency <= 0 {
		concurrency = 16
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, concurrency)
	for i := range files {
		if files[i].URI == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return err
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(f *FileRef) {
			defer wg.Done()
			defer func() { <-sem }()
			fi, err := fsys.Stat(ctx, f.URI)
			switch {
			case err == nil:
				yes, size := true, fi.Size
				f.Exists, f.StorageSize = &yes, &size
			case storage.IsNotExist(err):
				no := false
				f.Exists = &no
			default:
				f.CheckError = err.Error()
			}
		}(&files[i])
	}
	wg.Wait()
	return ctx.Err()
}
