package job

import (
	"regexp"
	"strings"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// restoreRefusal is a job's failure to restore a snapshot because an
// operator of the snapshot has no operator in the job (Flink's "Cannot map
// checkpoint/savepoint state for operator …"). On a JobManager failover
// Flink restores the latest checkpoint with allowNonRestoredState forced
// off (FLINK-39513), so a job upgraded with -n can fail this way later;
// the way out is an explicit resubmission: -s <that snapshot> -n, after a
// dry run that lists what -n drops.
type restoreRefusal struct {
	snapshot   string // the snapshot Flink tried to restore
	operatorID string // the first operator it could not map
}

// refusalRE matches Flink's message (Checkpoints.loadAndValidateCheckpoint,
// the same text in 1.x and 2.x).
var refusalRE = regexp.MustCompile(`Failed to rollback to checkpoint/savepoint (\S+)\. Cannot map checkpoint/savepoint state for operator ([0-9a-fA-F]{32})`)

// findRestoreRefusal looks through a job's exceptions, newest first, and
// their concurrent failures and causes (the whole stack trace).
func findRestoreRefusal(exc *cluster.Exceptions) *restoreRefusal {
	if exc == nil {
		return nil
	}
	var look func(es []cluster.Exception) *restoreRefusal
	look = func(es []cluster.Exception) *restoreRefusal {
		for _, e := range es {
			for _, s := range []string{e.StackTrace, e.Name} {
				if m := refusalRE.FindStringSubmatch(s); m != nil {
					return &restoreRefusal{snapshot: m[1], operatorID: strings.ToLower(m[2])}
				}
			}
			if r := look(e.Concurrent); r != nil {
				return r
			}
		}
		return nil
	}
	return look(exc.Entries)
}

// refusalLine is the overview's warning for a refused restore.
func (r *restoreRefusal) line() string {
	return "restore refused (r: resume with -n, dry run first): operator " + r.operatorID + " of " +
		text.Sanitize(storage.Base(strings.TrimRight(r.snapshot, "/"))) + " has no operator in the job"
}

// resumeNote is what the resume screen says when it opens on the refusal.
func (r *restoreRefusal) resumeNote() string {
	return "the job failed to restore " + storage.Base(strings.TrimRight(r.snapshot, "/")) + " (operator " + format.ShortID(r.operatorID) +
		"… unmapped): this is the explicit -s <snapshot> -n path — read below what -n drops, then n to allow"
}

// ---- claim mode and ownership of the restored snapshot ----

// Claim-mode keys: Flink 1.20/2.x, and the 1.15–1.19 name.
var claimModeKeys = []string{"execution.state-recovery.claim-mode", "execution.savepoint-restore-mode"}

// specSetting finds "key: value" in a job spec's text (its config block).
func specSetting(spec string, keys []string) string {
	for _, l := range strings.Split(spec, "\n") {
		l = strings.TrimSpace(l)
		for _, k := range keys {
			if v, ok := strings.CutPrefix(l, k+":"); ok {
				return strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	}
	return ""
}

// snapshotOwner says who may delete the restored snapshot under a claim
// mode — what changes when Flink silently falls back to NO_CLAIM.
func snapshotOwner(mode string) string {
	switch mode {
	case cluster.Claim:
		return "Flink: it deletes the snapshot once a newer checkpoint subsumes it — do not dispose it or resume another job from it"
	case cluster.Legacy:
		return "nobody: Flink never deletes it, but incremental checkpoints may still use its files — keep it until a savepoint replaces it"
	}
	return "you: Flink never deletes it; the first checkpoint after the restore is a full one, after which it may be disposed"
}
