package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/themes"
)

func TestRows(t *testing.T) {
	th := themes.Mono()
	tests := []struct {
		name string
		s    State
		w    int
		want []string
	}{
		{"start", State{Files: 3, Bytes: 3 << 20}, 80, []string{"0/3 files", "0 B/3.00 MiB", "–/s", "ETA ?", "   0%"}},
		{"half", State{Files: 4, FilesDone: 2, Bytes: 200, BytesDone: 100, PerSecond: 50, ETA: 2 * time.Second, RateKnown: true}, 80,
			[]string{"2/4 files", "100 B/200 B", "50 B/s", "ETA 2s", "  50%"}},
		{"narrow", State{Files: 1, FilesDone: 1, Bytes: 10, BytesDone: 10, RateKnown: true}, 40, []string{"100%"}},
	}
	for _, tc := range tests {
		rows := Rows(th, "copying a → b", "x cancels", tc.s, tc.w)
		for _, r := range rows {
			if got := ansi.StringWidth(r); got != tc.w {
				t.Errorf("%s: row %q is %d cells, want %d", tc.name, ansi.Strip(r), got, tc.w)
			}
		}
		bar := ansi.Strip(rows[1])
		for _, w := range tc.want {
			if !strings.Contains(bar, w) && tc.w >= 80 {
				t.Errorf("%s: %q lacks %q", tc.name, bar, w)
			}
		}
		if tc.w < 80 && !strings.Contains(bar, tc.want[0]) {
			t.Errorf("%s: %q lacks %q", tc.name, bar, tc.want[0])
		}
		if filled := strings.Count(bar, "█"); (tc.s.Fraction() == 0) != (filled == 0) {
			t.Errorf("%s: %d cells filled at %.2f", tc.name, filled, tc.s.Fraction())
		}
	}
}
