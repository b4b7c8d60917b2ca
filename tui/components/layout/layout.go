// Package layout names the entries of a Flink-style snapshot tree (job
// dirs, chk-N, shared/, savepoints, _metadata) by their names alone, for
// the screens that list storage.
package layout

import (
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Kind is what an entry of a Flink-style snapshot tree is.
type Kind int

const (
	KindFile Kind = iota
	KindDir
	KindJob        // <32 hex> job directory
	KindCheckpoint // chk-N
	KindShared     // shared/
	KindTaskOwned  // taskowned/
	KindSavepoint  // savepoint-xxxxxx-yyyyyyyyyyyy
	KindMetadata   // _metadata
	KindTemp       // an unfinished atomic write (.name.ckpt-tmp-…)
)

// Classify names an entry by its name alone (no I/O), with snapshot's
// layout rules; completeness of a chk-N dir needs a Stat of its _metadata
// and is checked separately.
func Classify(name string, isDir bool) (Kind, int64) {
	if storage.IsTemporary(name) {
		return KindTemp, 0
	}
	switch snapshot.KindOfName(name, isDir) {
	case snapshot.PathMetadataFile:
		return KindMetadata, 0
	case snapshot.PathSharedDir:
		return KindShared, 0
	case snapshot.PathTaskOwnedDir:
		return KindTaskOwned, 0
	case snapshot.PathJobDir:
		return KindJob, 0
	case snapshot.PathCheckpointDir:
		n, _ := snapshot.ParseCheckpointDirName(name)
		return KindCheckpoint, n
	case snapshot.PathSavepointDir:
		return KindSavepoint, 0
	}
	if isDir {
		return KindDir, 0
	}
	return KindFile, 0
}

// snapshotDir reports whether a kind of directory holds a _metadata.
func (k Kind) SnapshotDir() bool { return k == KindCheckpoint || k == KindSavepoint }

// NaturalLess orders names with digit runs compared as numbers, so chk-9
// sorts before chk-10.
func NaturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, cb := a[0], b[0]
		if isDigit(ca) && isDigit(cb) {
			ia, ib := digitRun(a), digitRun(b)
			na, nb := strings.TrimLeft(a[:ia], "0"), strings.TrimLeft(b[:ib], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[ia:], b[ib:]
			continue
		}
		if ca != cb {
			return ca < cb
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
