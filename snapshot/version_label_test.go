package snapshot

import "testing"

func TestFormatLabel(t *testing.T) {
	for _, tc := range []struct {
		version int
		want    string
	}{
		{Version2, "v2 (written by Flink 1.3+)"},
		{Version3, "v3 (written by Flink 1.11+)"},
		{Version4, "v4 (written by Flink 1.16+)"},
		{Version5, "v5 (written by Flink 2.0+)"},
		{Version6, "v6 (written by Flink 2.1+)"},
		{Version7, "v7 (written by Flink master after 2.3)"},
		{9, "v9 (written by an unknown writer)"},
	} {
		if got := FormatLabel(tc.version); got != tc.want {
			t.Errorf("FormatLabel(%d) = %q, want %q", tc.version, got, tc.want)
		}
	}
}
