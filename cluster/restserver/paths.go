package restserver

import (
	"context"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/storage"
)

// Paths in requests (a savepoint's target directory, a restore or disposal
// path) are the client's, resolved on the server. A relative one would
// resolve against whatever directory serve was started in, so it resolves
// against the configured savepoint directory instead, or is refused; and
// what the server answers about them must not tell the client more about
// files than it could learn itself: no file contents, and the same words
// for a file that is missing as for one the server user cannot read.

// savepointDir is the configured savepoint directory: Options.SavepointDir,
// else the cluster's execution.checkpointing.savepoint-dir
// (state.savepoints.dir).
func (s *Server) savepointDir(ctx context.Context) string {
	if s.opts.SavepointDir != "" {
		return s.opts.SavepointDir
	}
	m, err := s.c.Configuration(ctx)
	if err != nil {
		return ""
	}
	for _, k := range []string{config.SavepointDir, "state.savepoints.dir"} {
		if v := strings.TrimSpace(m[k]); v != "" {
			return v
		}
	}
	return ""
}

// resolvePath gives an absolute path or URI for p ("" stays ""): absolute
// paths and URIs as they are, a relative path under the configured
// savepoint directory; without one, or when it climbs out of it (".."), it
// is refused. field names the request's key.
func (s *Server) resolvePath(ctx context.Context, p, field string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return p, nil
	}
	loc, err := storage.Parse(p)
	if err != nil {
		return "", badRequest("%s: %v", field, err)
	}
	if loc.Scheme != "" || filepath.IsAbs(loc.Path) {
		return p, nil
	}
	base := s.savepointDir(ctx)
	if base == "" {
		return "", badRequest("%s %q is a relative path and %s is not configured: give an absolute path or a URI (file:///…, hdfs://…)",
			field, p, config.SavepointDir)
	}
	rel := path.Clean(filepath.ToSlash(loc.Path))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", badRequest("%s %q leaves the savepoint directory %s: give an absolute path or a URI", field, p, base)
	}
	return storage.Join(base, rel), nil
}

// accessFailure are the words of errors about a file that is missing, not
// readable, or not a _metadata file at all.
var accessFailure = regexp.MustCompile(`(?i)permission denied|no such file or directory|not a directory|file does not exist|` +
	`operation not permitted|_metadata magic number|not a Flink _metadata file`)

// unreadablePath is the one answer for a client's path the server cannot
// use: missing, unreadable and not-a-snapshot alike.
func unreadablePath(field, p string) error {
	return badRequest("%s %q: no checkpoint or savepoint the server can read there (the path does not exist, "+
		"the ckpt serve user cannot read it, or it is neither a _metadata file nor a directory holding one)", field, p)
}

// pathError replaces an error about the client's path p (its message names
// p and says it is missing, unreadable or not a snapshot) by
// unreadablePath; other errors pass.
func pathError(err error, field, p string) error {
	if err == nil || p == "" {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, p) && accessFailure.MatchString(msg) {
		return unreadablePath(field, p)
	}
	return err
}

var (
	// fileOpError is Go's *fs.PathError text for a missing or unreadable
	// path; what the path is and whether it exists stay unsaid.
	fileOpError = regexp.MustCompile(`\b(?:open|stat|lstat|readlink|opendir|readdirent|read|mkdir|list|remove|unlinkat) ` +
		`(\S+?): (?:permission denied|no such file or directory|not a directory|file does not exist|operation not permitted)`)
	// magicBytes is a decoder quoting the first bytes of a file it did not
	// recognise, and the size of one too short to hold a header.
	magicBytes = regexp.MustCompile(`found 0x[0-9a-fA-F]+|truncated file: needs \d+ bytes, the file ends after \d+`)
)

// disposalPaths remembers the path of each disposal for the answers to
// its polls, as long as the cluster may answer them.
type disposalPaths struct {
	mu sync.Mutex
	m  map[string]disposalPath
}

type disposalPath struct {
	path string
	at   time.Time
}

// keepDisposalPath is how long a disposal's path is remembered (longer
// than rest.async.store-duration's default of 5 min).
const keepDisposalPath = 15 * time.Minute

func (d *disposalPaths) put(id, p string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.m == nil {
		d.m = map[string]disposalPath{}
	}
	for k, v := range d.m {
		if now.Sub(v.at) > keepDisposalPath {
			delete(d.m, k)
		}
	}
	d.m[id] = disposalPath{p, now}
}

func (d *disposalPaths) get(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[id].path
}

// scrub takes file contents and existence out of an error message sent to
// a client.
func scrub(msg string) string {
	msg = fileOpError.ReplaceAllString(msg, "$1: does not exist or is not readable by the ckpt serve user")
	return magicBytes.ReplaceAllString(msg, "other bytes")
}

// scrubFailure is scrub for the failure of an asynchronous operation
// (disposal, savepoint): its whole cause is replaced when it is about a
// path the server cannot use.
func scrubFailure(kind cluster.TriggerKind, f *cluster.Failure, p string) *cluster.Failure {
	if f == nil {
		return nil
	}
	out := *f
	if kind == cluster.DisposalTrigger && accessFailure.MatchString(f.StackTrace) {
		if p != "" {
			p += " " // Flink's message names it
		}
		out.StackTrace = f.Class + ": Could not dispose savepoint " + p + "(no savepoint the server can read there: the path does not exist, " +
			"the ckpt serve user cannot read it, or it is not a savepoint)."
		return &out
	}
	out.StackTrace = scrub(f.StackTrace)
	return &out
}
