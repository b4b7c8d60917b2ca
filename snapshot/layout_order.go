package snapshot

import (
	"cmp"
	"strings"
)

// CompareEntryNames is the order in which ckpt lists the entries of a
// directory (`ckpt ls`, browse): by name, except that the chk-N
// directories stay together where "chk-" sorts and among themselves go by
// N, newest (highest) first — chk-10 before chk-9, not after chk-1. It
// returns a negative number when a comes first (for slices.SortFunc).
func CompareEntryNames(a, b string) int {
	na, aChk := ParseCheckpointDirName(a)
	nb, bChk := ParseCheckpointDirName(b)
	switch {
	case aChk && bChk:
		return cmp.Compare(nb, na)
	case aChk:
		if c := strings.Compare(CheckpointDirPrefix, b); c != 0 {
			return c
		}
	case bChk:
		if c := strings.Compare(a, CheckpointDirPrefix); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}
