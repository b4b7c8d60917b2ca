// Package format writes the small values the screens share the same way
// everywhere: times of day, durations, short job ids, task counts, state
// colours, meters and sparklines.
package format

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Tri is a yes/no that may not be known yet (a probe still running).
type Tri int8

const (
	Unknown Tri = iota
	Yes
	No
)

// StatusStyle colours a job or task state (the word is always written).
func StatusStyle(ctx *shell.Context, s string) lipgloss.Style {
	th := ctx.Theme
	switch s {
	case string(cluster.JobRunning), string(cluster.JobFinished), string(cluster.CheckpointCompleted):
		return th.OK
	case string(cluster.JobFailed), string(cluster.JobFailing):
		return th.Error
	case string(cluster.JobCanceled), string(cluster.JobCancelling), cluster.TaskCanceling:
		return th.Muted
	}
	return th.Warn
}

// Clock formats a time of day; other days get the date.
func Clock(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(now.Location())
	if y1, m1, d1 := t.Date(); true {
		if y2, m2, d2 := now.Date(); y1 == y2 && m1 == m2 && d1 == d2 {
			return t.Format("15:04:05")
		}
	}
	return t.Format("2006-01-02 15:04")
}

// Dur formats a duration compactly: 850ms, 4.2s, 3m12s, 2h05m, 3d4h.
func Dur(d time.Duration) string {
	switch {
	case d < 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// TaskCounts summarises tasks by state: "4 RUNNING", "2 RUNNING 2 DEPLOYING".
func TaskCounts(tasks map[string]int) string {
	var parts []string
	for _, st := range cluster.TaskStates {
		if n := tasks[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " ")
}

// ShortID is the 8-hex prefix the lists show.
func ShortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// FirstLine is s up to its first newline.
func FirstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Bar draws a fraction as a small meter (clamped to [0, 1]).
func Bar(f float64, w int) string {
	f = max(0, min(f, 1))
	n := int(f*float64(w) + 0.5)
	return "▕" + strings.Repeat("█", n) + strings.Repeat("░", w-n) + "▏"
}

var sparkChars = []rune("▁▂▃▄▅▆▇█")

// Spark draws values as a sparkline over their range (min to max), so a
// slow growth shows; equal values draw a flat middle line.
func Spark(vals []int64) string {
	if len(vals) == 0 {
		return ""
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := len(sparkChars) / 2
		if hi > lo {
			i = int((v - lo) * int64(len(sparkChars)-1) / (hi - lo))
		}
		b.WriteRune(sparkChars[i])
	}
	return b.String()
}

// CheckpointType names what a checkpoint of the history was.
func CheckpointType(c cluster.Checkpoint) string {
	switch {
	case c.Type == cluster.TypeSyncSavepoint:
		return "stop-sp"
	case c.Savepoint:
		return "savepoint"
	case c.Type == cluster.TypeUnalignedCheckpoint:
		return "unaligned"
	}
	return "checkpoint"
}

// SortedKeys is the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// JobStateWidth is the width of the longest job state name
// (INITIALIZING): a STATE column this wide never cuts one.
var JobStateWidth = longest(cluster.JobStatuses)

// CheckpointStateWidth is the width of the longest checkpoint state name
// (IN_PROGRESS), for the same reason.
var CheckpointStateWidth = longest([]cluster.CheckpointStatus{cluster.CheckpointInProgress, cluster.CheckpointCompleted, cluster.CheckpointFailed})

func longest[S ~string](names []S) int {
	n := 0
	for _, s := range names {
		n = max(n, len(s))
	}
	return n
}
