package inspect

import (
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/target"
)

// What the external tests (package inspect_test, which open the screens
// by name through tui's declaration) read of the screens.

// Target is the new job the user gave (nil: none); Plan the dry run's
// (nil unless it is on).
func Target(s *Inspect) *inspector.Target { return s.target }
func Plan(s *Inspect) *inspector.ResumePlan {
	if !s.dryRun {
		return nil
	}
	return s.plan
}
func DryRun(s *Inspect) bool { return s.dryRun }

// OperatorKinds are the listed operators' kinds of state, in order.
func OperatorKinds(s *Inspect) []string {
	var out []string
	for _, r := range s.rows {
		out = append(out, r.kinds)
	}
	return out
}

// Select puts the cursor on row i.
func Select(s *Inspect, i int) { s.list.Select(i) }

// File is a subtask's file handle as the tests see it.
type File struct {
	Path    string
	Missing bool
}

// Files are the subtask screen's file handles (inline ones left out).
func Files(s *SubtaskScreen) []File {
	var out []File
	for _, r := range s.rows {
		if r.path != "" {
			out = append(out, File{Path: r.path, Missing: r.exists == format.No})
		}
	}
	return out
}

// Verdict is the selected row's dry-run verdict ("dropped", …; "" none).
func Verdict(s *Inspect) string {
	r := s.selected()
	if r == nil {
		return ""
	}
	return map[target.Verdict]string{target.Restored: "restored", target.Dropped: "dropped", target.Skipped: "skipped",
		target.New: "new", target.Fails: "fails"}[r.verdict]
}
