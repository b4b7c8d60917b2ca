package savepoints

import spdomain "github.com/ckpt-dev/ckpt/inspector/savepoints"

// What the external tests (package savepoints_test, which open the screen
// by name through tui's declaration) read of the screen.

// Row is a listed savepoint as the tests see it.
type Row struct {
	SP        spdomain.Savepoint
	Rel       string
	Disposing bool
	Err       string
}

func rowOf(r *spRow) Row { return Row{SP: r.sp, Rel: r.rel, Disposing: r.disposing, Err: r.err} }

// Rows are the listed savepoints.
func Rows(s *Savepoints) []Row {
	var out []Row
	for _, r := range s.rows {
		out = append(out, rowOf(r))
	}
	return out
}

// SelectedRow is the row under the cursor (nil: none).
func SelectedRow(s *Savepoints) *Row {
	r := s.selected()
	if r == nil {
		return nil
	}
	v := rowOf(r)
	return &v
}

// PlanRemoves is how many savepoints the policy's plan removes.
func PlanRemoves(s *Savepoints) int { return s.summary.Remove }

// Root is the listed directory; Err the listing's failure.
func Root(s *Savepoints) string { return s.root }
func Err(s *Savepoints) error   { return s.err }

var (
	ParsePolicy = parsePolicy
	PolicyText  = policyText
)

// Preview lists sps under policy p with the cursor on row sel, as a
// finished listing would.
func Preview(s *Savepoints, sps []spdomain.Savepoint, p spdomain.Policy, sel int) {
	s.setRows(sps)
	s.policy = p
	s.replan()
	s.list.Select(sel)
}

// Move moves the cursor by d rows.
func Move(s *Savepoints, d int) { s.list.Move(d) }
