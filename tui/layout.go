package tui

import (
	"strconv"
	"strings"

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

// classify names an entry by its name alone (no I/O). Completeness of a
// chk-N dir needs a Stat of its _metadata and is checked separately.
func classify(name string, isDir bool) (Kind, int64) {
	if storage.IsTemporary(name) {
		return KindTemp, 0
	}
	if !isDir {
		if name == "_metadata" {
			return KindMetadata, 0
		}
		return KindFile, 0
	}
	switch {
	case name == "shared":
		return KindShared, 0
	case name == "taskowned":
		return KindTaskOwned, 0
	case isJobID(name):
		return KindJob, 0
	case strings.HasPrefix(name, "chk-"):
		if n, err := strconv.ParseInt(name[4:], 10, 64); err == nil && n >= 0 && name[4] != '+' {
			return KindCheckpoint, n
		}
	case isSavepointDir(name):
		return KindSavepoint, 0
	}
	return KindDir, 0
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isJobID: Flink job ids are 32 lowercase hex digits.
func isJobID(s string) bool { return len(s) == 32 && isHex(s) }

// isSavepointDir: savepoint-<first 6 hex of the job id>-<12 random hex>.
func isSavepointDir(s string) bool {
	if !strings.HasPrefix(s, "savepoint-") {
		return false
	}
	rest := s[len("savepoint-"):]
	parts := strings.Split(rest, "-")
	return len(parts) == 2 && len(parts[0]) == 6 && isHex(parts[0]) && len(parts[1]) == 12 && isHex(parts[1])
}

// snapshotDir reports whether a kind of directory holds a _metadata.
func (k Kind) snapshotDir() bool { return k == KindCheckpoint || k == KindSavepoint }

// naturalLess orders names with digit runs compared as numbers, so chk-9
// sorts before chk-10.
func naturalLess(a, b string) bool {
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
