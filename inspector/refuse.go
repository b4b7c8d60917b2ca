package inspector

import (
	"fmt"

	"github.com/ckpt-dev/ckpt/internal/units"
)

// Refusal is why a resume must not be submitted: what Flink would refuse,
// or what would silently lose state. ckpt submit and the TUI's resume
// screen refuse alike; each adds how its user overrides it.
type Refusal struct {
	// ExitCode is ExitResumeFails or ExitResumeDropState.
	ExitCode int
	// Reason, e.g. "Flink refuses this resume even with -n: …" or "2
	// operators' state (1.95 KiB) has no operator in the new job".
	Reason string
}

func (r *Refusal) Error() string { return r.Reason }

// Refuse says whether a resume planned as p may be submitted with
// allow-non-restored-state (-n) set as allowNonRestored: nil when it may.
// A restore that fails even with -n is refused whatever the flag; state
// with no operator in the new job is refused unless -n allows dropping it.
func (p *ResumePlan) Refuse(allowNonRestored bool) *Refusal {
	switch {
	case len(p.Failures) > 0:
		return &Refusal{ExitCode: ExitResumeFails, Reason: "Flink refuses this resume even with -n: " + p.Failures[0].Reason}
	case len(p.Dropped) > 0 && !allowNonRestored:
		return &Refusal{ExitCode: ExitResumeDropState, Reason: fmt.Sprintf("%s state (%s) has no operator in the new job",
			operatorsPossessive(len(p.Dropped)), units.Bytes(p.DroppedBytes))}
	}
	return nil
}

// operatorsPossessive is "1 operator's", "4 operators'".
func operatorsPossessive(n int) string {
	if n == 1 {
		return "1 operator's"
	}
	return fmt.Sprintf("%d operators'", n)
}
