package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newGCCmd) }

// ExitGCHeldBack: gc did what it could, but the target reports a job
// running with a checkpoint in progress, so that job's directory was left
// alone; run gc again later.
const ExitGCHeldBack = 3

type gcOptions struct {
	yes, json, bytes, restored bool
	trash, journal             string
	minAge                     time.Duration
	retained                   int
}

func newGCCmd() *cobra.Command {
	var o gcOptions
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "gc JOBDIR|ROOT",
		Short: "Plan, then delete, what a job's checkpoint directory holds that no checkpoint needs",
		Long: `Turns the leak report (ckpt du --orphans, the TUI's leaks screen) into a
deletion plan for a job directory (<checkpoint-dir>/<job-id>) or a checkpoint
root holding job directories:

  orphan    files under shared/ no complete checkpoint of any job references
  stale     chk-N without _metadata, older than the newest complete checkpoint
  beyond    complete chk-N beyond num-retained (--retained N, or the target's)
  restored  with --restored: a chk-N outside the root the job was restored
            from (the target says which) that nothing uses any more

Guards — what stays, whatever the plan: a file any complete checkpoint of any
job under the root references (the root's job dirs, or a job dir's siblings:
CLAIM and LEGACY restores reuse another job's files), read again just before
deleting; anything newer than the job's newest complete checkpoint or younger
than --min-age (an upload may be in flight); the directory of a job the target
(-m, when given) reports running with a checkpoint in progress; in shared/ and
stale chk-N, any file not named like a checkpoint's upload (a UUID), and the
directory holding it. Savepoints are never planned (ckpt savepoints).

Without --yes it only prints the plan and the bytes it would reclaim. --yes
deletes through ckpt's one disposal rule: named files only, never recursively,
never through a symbolic link, _metadata of a chk-N first. --trash DIR moves the
files below DIR (same filesystem; each keeps its path under DIR) instead. Every
file removed or moved is appended as a JSON line to the journal (--journal;
default $CKPT_STATE_DIR/gc-journal.jsonl, else
$XDG_STATE_HOME/ckpt/gc-journal.jsonl, else ~/.local/state/ckpt/gc-journal.jsonl).

Exit codes: 0 planned (dry run) or done; 1 error (a deletion failed, a
checkpoint was unreadable, the target unreachable); 2 usage; 3 done, but a job
was held back because the target reports a checkpoint in progress (run again).`,
		Example: `  ckpt gc /flink/checkpoints
  ckpt gc --retained 3 -m jobmanager:8081 hdfs://namenode:8020/flink/checkpoints/3f2a…
  ckpt gc --yes --trash /flink/gc-trash /flink/checkpoints`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGC(cmd, args[0], o, tf)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.yes, "yes", false, "delete what the plan lists (without it: dry run)")
	f.StringVar(&o.trash, "trash", "", "move the files below `DIR` (same filesystem) instead of deleting them")
	f.DurationVar(&o.minAge, "min-age", time.Hour, "never touch anything younger")
	f.IntVar(&o.retained, "retained", 0, "num-retained of every job (default: the target's, with -m; else no complete chk-N is planned)")
	f.BoolVar(&o.restored, "restored", false, "also plan the chk-N a job was restored from, when nothing uses it (needs -m)")
	f.StringVar(&o.journal, "journal", "", "local `FILE` the removed files are appended to (default under $XDG_STATE_HOME/ckpt)")
	f.BoolVar(&o.json, "json", false, "print the plan (and the result) as JSON")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes instead of KiB/MiB/GiB")
	tf = addTargetFlags(cmd)
	return cmd
}

type gcJSON struct {
	Plan    *inspector.GCPlan   `json:"plan"`
	DryRun  bool                `json:"dry_run"`
	Result  *inspector.GCResult `json:"result,omitempty"`
	Journal string              `json:"journal,omitempty"`
	Trash   string              `json:"trash,omitempty"`
}

func runGC(cmd *cobra.Command, uri string, o gcOptions, tf *targetFlags) error {
	if o.minAge < 0 {
		return usagef("--min-age %v: want 0 or more", o.minAge)
	}
	if o.retained < 0 {
		return usagef("--retained %d: want a positive count", o.retained)
	}
	if o.trash != "" && !o.yes {
		return usagef("--trash moves files: add --yes (without both, gc only plans)")
	}
	if o.trash != "" {
		if err := sameFilesystem(uri, o.trash); err != nil {
			return usagef("--trash %s: %v", o.trash, err)
		}
		if storage.Within(uri, o.trash) || storage.Within(o.trash, uri) {
			return usagef("--trash %s overlaps %s: put the trash beside the checkpoints, not in them", o.trash, uri)
		}
	}
	named := cmd.Flags().Changed("jobmanager") || os.Getenv(JobManagerEnv) != ""
	if o.restored && !named {
		return usagef("--restored needs -m: only the target knows where a job was restored from")
	}
	ctx := cmd.Context()
	fsys := openStorage(cmd)
	defer fsys.Close()
	opts := inspector.GCOptions{Retained: o.retained, MinAge: o.minAge, IncludeRestored: o.restored}
	jobs, _, err := inspector.GCJobDirs(ctx, fsys, uri)
	if err != nil {
		return err
	}
	if named {
		c, err := tf.client()
		if err != nil {
			return err
		}
		if err := cluster.GCFacts(ctx, c, jobs, &opts); err != nil {
			return fmt.Errorf("%w: gc deletes nothing it cannot check (without -m only --min-age guards uploads in flight)", err)
		}
	}
	plan, err := inspector.PlanGC(ctx, fsys, uri, opts)
	if err != nil {
		return err
	}
	if !named {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("no target (-m): whether a job is running is not checked; only --min-age %v guards uploads in flight", o.minAge))
	}
	out := gcJSON{Plan: plan, DryRun: !o.yes, Trash: o.trash}
	var runErr error
	if o.yes && len(plan.Items) > 0 {
		path := o.journal
		if path == "" {
			if path, err = inspector.GCJournalPath(); err != nil {
				return err
			}
		}
		write, closeJ, err := inspector.OpenGCJournal(path)
		if err != nil {
			return err
		}
		out.Journal = path
		out.Result, runErr = inspector.ExecuteGC(ctx, fsys, plan, inspector.GCExecOptions{Trash: o.trash, Journal: write})
		if err := closeJ(); err != nil && runErr == nil {
			runErr = fmt.Errorf("gc journal %s: %w", path, err)
		}
	}
	w := cmd.OutOrStdout()
	if o.json {
		writeJSON(w, out)
	} else {
		printGC(w, out, o.bytes)
	}
	switch {
	case runErr != nil:
		return runErr
	case plan.HeldBack():
		return WithExitCode(ExitGCHeldBack, fmt.Errorf("a job was held back: the target reports a checkpoint in progress; run gc again later"))
	}
	return nil
}

// sameFilesystem: a move is a rename, so the trash must be on the same
// storage (scheme and host) as what is moved.
func sameFilesystem(a, b string) error {
	la, err := storage.Parse(a)
	if err != nil {
		return err
	}
	lb, err := storage.Parse(b)
	if err != nil {
		return err
	}
	if la.IsLocal() != lb.IsLocal() || !la.IsLocal() && (la.Scheme != lb.Scheme || la.Authority != lb.Authority) {
		return fmt.Errorf("not on the storage of %s (a move is a rename)", a)
	}
	return nil
}

func printGC(w io.Writer, out gcJSON, exact bool) {
	sz := func(n int64) string { return sizeIEC(n, exact) }
	p := out.Plan
	for _, j := range p.Jobs {
		line := fmt.Sprintf("job dir     %s: ", printable(j.JobDir))
		if j.Latest < 0 {
			line += "no complete checkpoint"
		} else {
			line += "newest complete chk-" + fmt.Sprint(j.Latest)
		}
		if j.Retained > 0 {
			line += fmt.Sprintf(", num-retained %d", j.Retained)
		}
		if j.HeldBack != "" {
			line += "; HELD BACK: " + j.HeldBack
		}
		fmt.Fprintln(w, line)
	}
	if len(p.Scanned) > len(p.Jobs) {
		fmt.Fprintf(w, "protecting  what the complete checkpoints of %s reference\n", plural(len(p.Scanned)-len(p.Jobs), "other job dir"))
	}
	if len(p.Items) > 0 {
		rows := [][]string{{"KIND", "SIZE", "FILES", "PATH", "WHY"}}
		for _, it := range p.Items {
			path := printable(it.URI)
			if it.Kind != inspector.GCOrphan {
				path += "/"
			}
			rows = append(rows, []string{it.Kind, sz(it.Bytes), fmt.Sprint(len(it.Files)), path, it.Why})
		}
		printTable(w, rows, map[int]bool{1: true, 2: true})
	}
	if kept := p.SortedKept(); len(kept) > 0 {
		fmt.Fprintf(w, "kept by a guard: %d\n", len(kept))
		rows := [][]string{{"KIND", "SIZE", "PATH", "WHY KEPT"}}
		for _, k := range kept {
			rows = append(rows, []string{k.Kind, sz(k.Bytes), printable(k.URI), k.Why})
		}
		printTable(w, rows, map[int]bool{1: true})
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", printable(warn))
	}
	if out.DryRun {
		fmt.Fprintf(w, "plan: %d files, %s to reclaim (dry run: --yes deletes, --yes --trash DIR moves)\n", p.Files, sz(p.Bytes))
		return
	}
	r := out.Result
	if r == nil {
		fmt.Fprintln(w, "nothing to reclaim")
		return
	}
	verb := "removed"
	if out.Trash != "" {
		verb = "moved to " + printable(out.Trash)
	}
	var skipped int64
	for _, s := range r.Skipped {
		skipped += s.Size
	}
	fmt.Fprintf(w, "%s %d files (%s) of the %d planned (%s); %d already gone (%s); %d kept on a second look (%s)\n",
		verb, r.Removed, sz(r.RemovedBytes), p.Files, sz(p.Bytes), r.Gone, sz(r.GoneBytes), len(r.Skipped), sz(skipped))
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "kept        %s: %s\n", printable(s.URI), printable(s.Why))
	}
	for _, l := range r.Left {
		fmt.Fprintf(w, "left        %s: %s\n", printable(l.URI), printable(l.Why))
	}
	fmt.Fprintf(w, "journal     %s\n", printable(out.Journal))
}
