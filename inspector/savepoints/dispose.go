package savepoints

import (
	"context"
	"errors"
	"fmt"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Disposal is how a savepoint was disposed.
type Disposal struct {
	URI string `json:"uri"`
	// Via is "cluster" (POST /savepoint-disposal, confirmed gone) or
	// "storage" (ckpt deleted the self-contained directory itself).
	Via string `json:"via"`
	// ClusterError is why the cluster's disposal was not used or did not
	// finish, when ckpt fell back to deleting the directory.
	ClusterError string `json:"cluster_error,omitempty"`
	// Removed counts the files ckpt removed itself (Via "storage").
	Removed int `json:"removed,omitempty"`
	// Left is what stayed in or beside the savepoint's directory, and why
	// (files ckpt did not write there; the directory then stays too).
	Left []snapshot.Leftover `json:"left,omitempty"`
}

// ErrNotSavepoint is wrapped when Dispose is given anything but a complete,
// readable savepoint.
var ErrNotSavepoint = errors.New("not a savepoint")

// Check reads what uri (a savepoint directory or its _metadata) is and
// refuses anything Dispose must never delete: a path without _metadata, an
// unreadable _metadata, a chk-N directory, a header that says checkpoint.
func Check(ctx context.Context, fsys storage.FS, uri string) (Savepoint, error) {
	loc, err := snapshot.Locate(ctx, fsys, uri)
	if err != nil {
		return Savepoint{}, fmt.Errorf("%s: %w: %v", uri, ErrNotSavepoint, err)
	}
	dir := loc.ExclusiveDir
	name := storage.Base(dir)
	if _, chk := snapshot.ParseCheckpointDirName(name); chk {
		return Savepoint{}, fmt.Errorf("%s is a checkpoint (chk-N), %w: its shared files may belong to other checkpoints", dir, ErrNotSavepoint)
	}
	sp := Savepoint{Name: name, URI: dir}
	Describe(ctx, fsys, &sp)
	switch {
	case !sp.Complete || sp.Error != "":
		return sp, fmt.Errorf("%s: %w: %s", dir, ErrNotSavepoint, sp.Error)
	case sp.Kind != string(snapshot.KindSavepoint):
		return sp, fmt.Errorf("%s: %w: its header says %s", dir, ErrNotSavepoint, sp.Kind)
	case !snapshot.IsSavepointDirName(name) && sp.Format == "":
		// Neither the name nor the header vouches for a savepoint.
		return sp, fmt.Errorf("%s: %w: neither the directory name nor the header says savepoint", dir, ErrNotSavepoint)
	}
	return sp, nil
}

// DisposeFunc asks whoever runs the snapshots — a cluster's
// /savepoint-disposal, see cluster.SavepointDisposal — to dispose of the
// savepoint at uri, and returns once that finished (or failed).
type DisposeFunc func(ctx context.Context, uri string) error

// Dispose deletes the savepoint at uri and returns only once it is gone
// (a caller keeps its entry until then). With via (a cluster) it asks the
// cluster (Flink's /savepoint-disposal) and waits for the operation; when
// that fails or leaves the files, or without via, it disposes of it
// itself by ckpt's one rule (snapshot.Dispose: exactly the files its
// _metadata references inside its directory, never through a link, the
// directory only once empty) — and only when the savepoint is
// self-contained, so nothing outside it is ever touched. Whatever stays
// (a file somebody put beside it) is in Disposal.Left.
func Dispose(ctx context.Context, fsys storage.FS, via DisposeFunc, uri string) (Disposal, error) {
	sp, err := Check(ctx, fsys, uri)
	if err != nil {
		return Disposal{URI: uri}, err
	}
	d := Disposal{URI: sp.URI}
	if via != nil {
		err := via(ctx, sp.URI)
		if err == nil {
			gone, serr := isGone(ctx, fsys, sp.URI)
			if serr != nil {
				return d, serr
			}
			if gone {
				d.Via = "cluster"
				d.Left = snapshot.Remains(ctx, fsys, sp.URI)
				return d, nil
			}
			err = errors.New("the cluster reported success but the savepoint's _metadata is still there")
		}
		if ctx.Err() != nil {
			return d, err
		}
		d.ClusterError = err.Error()
	}
	if !sp.SelfContained {
		why := "it references files outside its directory, which ckpt will not delete by itself"
		if d.ClusterError != "" {
			return d, fmt.Errorf("disposing %s through the cluster failed (%s), and %s", sp.URI, d.ClusterError, why)
		}
		return d, fmt.Errorf("%s: %s; dispose it through a cluster (--target)", sp.URI, why)
	}
	res, err := snapshot.Dispose(ctx, fsys, sp.URI)
	d.Removed, d.Left = len(res.Removed), res.Left
	if err != nil {
		return d, err
	}
	d.Via = "storage"
	return d, nil
}

// isGone: no _metadata left (the directory itself may linger briefly on
// object stores; without _metadata it is not a savepoint any more).
func isGone(ctx context.Context, fsys storage.FS, dir string) (bool, error) {
	_, err := fsys.Stat(ctx, storage.Join(dir, snapshot.MetadataFileName))
	if storage.IsNotExist(err) {
		return true, nil
	}
	return false, err
}
