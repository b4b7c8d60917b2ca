package snapshot

import (
	"slices"
	"testing"
)

func TestCompareEntryNames(t *testing.T) {
	names := []string{"taskowned", "chk-9", "chk", "chk-10", "_metadata", "chk-x", "chk-1", "shared", "chk-100", "a", "chk-2"}
	slices.SortFunc(names, CompareEntryNames)
	want := []string{"_metadata", "a", "chk", "chk-100", "chk-10", "chk-9", "chk-2", "chk-1", "chk-x", "shared", "taskowned"}
	if !slices.Equal(names, want) {
		t.Errorf("sorted %v\nwant   %v", names, want)
	}
	for _, tc := range [][2]string{{"chk-10", "chk-9"}, {"chk-3", "shared"}, {"a", "chk-3"}, {"chk", "chk-3"}, {"chk-3", "chk-x"}} {
		if CompareEntryNames(tc[0], tc[1]) >= 0 || CompareEntryNames(tc[1], tc[0]) <= 0 {
			t.Errorf("%s should come before %s", tc[0], tc[1])
		}
	}
}
