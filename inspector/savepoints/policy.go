package savepoints

import (
	"fmt"
	"time"
)

// Policy is a savepoint retention rule. Flink has none for savepoints, so
// they pile up; this is what an operator would run by hand, previewed
// first. Limits apply per owning job (the 6-hex prefix), so one busy job
// never pushes out another job's only savepoint. With both limits set, a
// savepoint goes only when it exceeds both: outside its job's newest
// KeepNewest AND older than OlderThan.
type Policy struct {
	KeepNewest int           // 0: no count limit
	OlderThan  time.Duration // 0: no age limit
}

func (p Policy) String() string {
	switch {
	case p.KeepNewest > 0 && p.OlderThan > 0:
		return fmt.Sprintf("keep the newest %d per job; of the rest, remove those older than %s", p.KeepNewest, FormatAge(p.OlderThan))
	case p.KeepNewest > 0:
		return fmt.Sprintf("keep the newest %d per job", p.KeepNewest)
	case p.OlderThan > 0:
		return "remove those older than " + FormatAge(p.OlderThan)
	}
	return "keep everything"
}

// Decision is what a policy does with one savepoint, and why.
type Decision struct {
	Savepoint
	Remove bool   `json:"remove"`
	Reason string `json:"reason"`
}

// Plan is a retention preview: every savepoint with its decision (in the
// order given, newest first), and what removing would free.
type Plan struct {
	Policy       string     `json:"policy"`
	Decisions    []Decision `json:"decisions"`
	Remove       int        `json:"remove"`
	RemoveBytes  int64      `json:"remove_bytes"`
	Keep         int        `json:"keep"`
	KeepBytes    int64      `json:"keep_bytes"`
	NotEligible  int        `json:"not_eligible"` // incomplete, unreadable or not a savepoint: never removed
	EligibleKept int        `json:"eligible_kept"`
}

// Preview applies p to sps (newest first, as Find returns them) at time
// now. Nothing is deleted. Incomplete or unreadable directories and
// directories whose header says checkpoint are never planned for removal:
// a policy only ever removes what Dispose would accept.
func Preview(sps []Savepoint, p Policy, now time.Time) Plan {
	plan := Plan{Policy: p.String(), Decisions: make([]Decision, 0, len(sps))}
	rank := map[string]int{}
	for _, sp := range sps {
		d := Decision{Savepoint: sp}
		switch {
		case !sp.Complete:
			d.Reason = "incomplete (no _metadata): not a restorable savepoint, never removed by a policy"
			plan.NotEligible++
		case sp.Error != "":
			d.Reason = "unreadable: " + sp.Error
			plan.NotEligible++
		case sp.Kind != "savepoint":
			d.Reason = "the header says " + sp.Kind + ": not disposed as a savepoint"
			plan.NotEligible++
		default:
			rank[sp.JobPrefix]++
			n := rank[sp.JobPrefix]
			age := now.Sub(sp.ModTime)
			overCount := p.KeepNewest > 0 && n > p.KeepNewest
			overAge := p.OlderThan > 0 && age > p.OlderThan
			switch {
			case p.KeepNewest <= 0 && p.OlderThan <= 0:
				d.Reason = "no limit given"
			case p.KeepNewest > 0 && !overCount:
				d.Reason = fmt.Sprintf("newest %d of job %s", n, sp.JobPrefix)
			case p.OlderThan > 0 && !overAge:
				d.Reason = fmt.Sprintf("%s old, within %s", FormatAge(age), FormatAge(p.OlderThan))
			default:
				d.Remove = true
				switch {
				case overCount && overAge:
					d.Reason = fmt.Sprintf("#%d of job %s and %s old", n, sp.JobPrefix, FormatAge(age))
				case overCount:
					d.Reason = fmt.Sprintf("#%d of job %s (keep %d)", n, sp.JobPrefix, p.KeepNewest)
				default:
					d.Reason = fmt.Sprintf("%s old (limit %s)", FormatAge(age), FormatAge(p.OlderThan))
				}
			}
			if !d.Remove {
				plan.EligibleKept++
			}
		}
		if d.Remove {
			plan.Remove++
			plan.RemoveBytes += sp.Bytes
		} else {
			plan.Keep++
			plan.KeepBytes += sp.Bytes
		}
		plan.Decisions = append(plan.Decisions, d)
	}
	return plan
}

// ParseAge reads an age limit: Go durations ("36h", "90m") plus days and
// weeks ("7d", "2w"), which retention is usually spoken in.
func ParseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	unit := s[len(s)-1]
	if unit == 'd' || unit == 'w' {
		var n float64
		if _, err := fmt.Sscanf(s[:len(s)-1], "%g", &n); err != nil || n < 0 {
			return 0, fmt.Errorf("age %q: want a number of days (7d), weeks (2w) or a duration (36h)", s)
		}
		day := 24 * time.Hour
		if unit == 'w' {
			day *= 7
		}
		return time.Duration(n * float64(day)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("age %q: want a number of days (7d), weeks (2w) or a duration (36h)", s)
	}
	return d, nil
}

// FormatAge prints a duration the way ages are read: 45s, 12m, 5h, 3d.
func FormatAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
