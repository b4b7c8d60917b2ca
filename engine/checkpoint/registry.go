package checkpoint

import (
	"sync"
	"sync/atomic"

	"github.com/ckpt-dev/ckpt/storage"
)

// Registry is the shared-state registry of one job: which uploaded shared
// files (SSTs under <job>/shared/) exist, which backend instance may reuse
// which of them, and how many completed checkpoints reference each. A file
// is deleted only when no retained checkpoint references it AND no pending
// checkpoint has pinned it for reuse, which closes the race between an
// upload deciding to reuse a file and a subsumption deleting it. And a file
// is deleted only when the job may: it uploaded the file itself, or the
// file lies in the shared/ directory of a snapshot the job claimed. Files
// of a snapshot restored without claiming it are referenced, never deleted.
type Registry struct {
	mu      sync.Mutex
	refs    map[string]int               // URI → completed checkpoints referencing it
	pins    map[string]int               // URI → pending checkpoints referencing it
	sizes   map[string]int64             // URI → bytes
	byLocal map[string]map[string]string // backend id → local name → URI
	mine    map[string]bool              // URIs this job uploaded
	claimed []string                     // shared/ directories of claimed snapshots
	// full are pending FULL checkpoints: their uploads reuse nothing.
	full map[int64]bool
	// background counts uploads of new base images running outside any
	// checkpoint, and the bytes they uploaded.
	background      sync.WaitGroup
	backgroundBytes atomic.Int64
}

func (r *Registry) addBackground(n int64) { r.backgroundBytes.Add(n) }

// BackgroundBytes is what background uploads of base images uploaded so
// far: the amortized cost of incremental checkpoints beyond their own
// uploads.
func (r *Registry) BackgroundBytes() int64 { return r.backgroundBytes.Load() }

// WaitBackground waits for background uploads to end (they end early when
// their task's context is canceled).
func (r *Registry) WaitBackground() { r.background.Wait() }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{refs: map[string]int{}, pins: map[string]int{}, sizes: map[string]int64{}, byLocal: map[string]map[string]string{},
		mine: map[string]bool{}, full: map[int64]bool{}}
}

// Claim makes the files under dir (the shared/ directory of a snapshot the
// job restored from in CLAIM mode) the job's to delete once unreferenced.
func (r *Registry) Claim(dir string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.claimed = append(r.claimed, dir)
}

// deletable: the job uploaded uri, or it lies in a claimed shared/.
func (r *Registry) deletable(uri string) bool {
	if r.mine[uri] {
		return true
	}
	for _, d := range r.claimed {
		if inside(d, uri) || inside(FlinkPath(d), uri) {
			return true
		}
	}
	return false
}

// inside reports whether uri lies strictly below dir.
func inside(dir, uri string) bool { return storage.Within(dir, uri) && !storage.Within(uri, dir) }

// SetFull marks pending checkpoint id as FULL (on) or forgets it (off, once
// it completed or was aborted).
func (r *Registry) SetFull(id int64, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		r.full[id] = true
	} else {
		delete(r.full, id)
	}
}

// IsFull reports whether pending checkpoint id is a FULL checkpoint.
func (r *Registry) IsFull(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.full[id]
}

// Reuse returns the URI of an already uploaded copy of backend's local file
// and pins it for a pending checkpoint, or "" when it must be uploaded.
func (r *Registry) Reuse(backend, local string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	uri := r.byLocal[backend][local]
	if uri == "" {
		return ""
	}
	if r.refs[uri] == 0 && r.pins[uri] == 0 {
		// Not referenced by anything alive any more: it may be being
		// deleted; upload afresh.
		delete(r.byLocal[backend], local)
		return ""
	}
	r.pins[uri]++
	return uri
}

// Uploaded records a fresh upload of backend's local file at uri, pinned by
// the pending checkpoint that uploaded it.
func (r *Registry) Uploaded(backend, local, uri string, size int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byLocal[backend]
	if m == nil {
		m = map[string]string{}
		r.byLocal[backend] = m
	}
	m[local] = uri
	r.pins[uri]++
	r.sizes[uri] = size
	r.mine[uri] = true
}

// Seed registers the shared files of a restored checkpoint for a new backend
// instance so its first checkpoint reuses them instead of uploading again.
// They are not referenced yet (the restored checkpoint holds the refs).
func (r *Registry) Seed(backend string, files map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byLocal[backend]
	if m == nil {
		m = map[string]string{}
		r.byLocal[backend] = m
	}
	for local, uri := range files {
		m[local] = uri
	}
}

// Unpin drops pending references (checkpoint aborted, or converted to refs
// by Commit). It returns the URIs nothing references any more that the job
// may delete (see Registry).
func (r *Registry) Unpin(uris []string) (orphans []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range uris {
		if r.pins[u] > 0 {
			r.pins[u]--
		}
		if r.pins[u] == 0 {
			delete(r.pins, u)
			if r.refs[u] == 0 {
				if r.deletable(u) {
					orphans = append(orphans, u)
				}
				r.forget(u)
			}
		}
	}
	return orphans
}

// Ref adds completed-checkpoint references (a checkpoint completed or was
// restored from).
func (r *Registry) Ref(uris []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range uris {
		r.refs[u]++
	}
}

// Unref drops completed-checkpoint references (a checkpoint was subsumed or
// discarded) and returns the URIs nothing references any more that the
// job may delete (see Registry).
func (r *Registry) Unref(uris []string) (orphans []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range uris {
		if r.refs[u] > 0 {
			r.refs[u]--
		}
		if r.refs[u] == 0 && r.pins[u] == 0 {
			delete(r.refs, u)
			if r.deletable(u) {
				orphans = append(orphans, u)
			}
			r.forget(u)
		}
	}
	return orphans
}

func (r *Registry) forget(uri string) {
	delete(r.sizes, uri)
	delete(r.mine, uri)
	for _, m := range r.byLocal {
		for l, u := range m {
			if u == uri {
				delete(m, l)
			}
		}
	}
}

// Live is the number of shared files referenced or pinned.
func (r *Registry) Live() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for u := range r.refs {
		if r.refs[u] > 0 || r.pins[u] > 0 {
			n++
		}
	}
	for u := range r.pins {
		if r.refs[u] == 0 {
			n++
		}
	}
	return n
}
