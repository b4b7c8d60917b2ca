package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
)

func init() { register(newRewriteCmd) }

type rewriteOptions struct {
	drop       []string
	rename     []string
	setUIDHash []string
	against    string
	copyOnly   bool
	json       bool
	bytes      bool
	version    string
	tf         *targetFlags
}

// rewriteJSON is the --json document.
type rewriteJSON struct {
	Src     string                  `json:"src"`
	Dst     string                  `json:"dst"`
	Format  *snapshot.Conversion    `json:"format"`
	Changes []snapshot.Change       `json:"changes"`
	Kept    int                     `json:"kept"`
	Files   *snapshot.RewriteResult `json:"files"`
	Resume  *inspector.ResumePlan   `json:"resume,omitempty"`
}

func newRewriteCmd() *cobra.Command {
	var o rewriteOptions
	cmd := &cobra.Command{
		Use:   "rewrite SRC DST",
		Short: "Write a copy of a snapshot with operators dropped or moved to new uids",
		Long: `Writes a NEW snapshot DST from the checkpoint or savepoint SRC (local or
hdfs://), with no JVM: SRC is never changed.

  --drop UID|ID              the operator's state is left out (its files are not
                             copied); a job without that operator then resumes
                             without --allow-non-restored-state, one that still
                             has it starts it empty
  --rename OLD_UID=NEW_UID   the operator's state moves to the operator ID of
                             NEW_UID (Flink's hash of the uid), so a job whose
                             uid was changed resumes without -n; Flink 2.x
                             snapshots also record the new uid
  --set-uid-hash ID=UID      the same for an operator known only by its ID (no
                             uid, e.g. a generated ID); UID may be hash:<32 hex>
                             for a job that pins the ID with setUidHash

DST must not exist (or be an empty directory); its parent must. Every file the
kept operators reference is hard-linked (same local filesystem) or copied into
DST and referenced relative to it, including a retained checkpoint's files in
its job's shared/ and taskowned/ directories: DST is self-contained. _metadata
is written last, so an interrupted rewrite never looks complete; a failed one
removes the files it wrote and nothing else.

DST's _metadata keeps SRC's format version. --target-version V4|V5|V6 writes
another: V4 for Flink 1.16–1.20 (which refuse V5 and V6), V5 for Flink 2.0, V6
for Flink 2.1–2.3. With -m TARGET the version is the one TARGET's Flink writes
(its /config flink-version; ckpt's engine reads every version, so SRC's stays).
Operator names and uids, which only V5+ store, are listed as not kept when
writing V4: Flink matches state by operator ID, which stays. State V4 cannot
hold (V6's merged channel-state handles of unaligned checkpoints) is an error
naming it, and nothing is written. V2/V3 snapshots keep their version.

--against JOB (a job spec, a uids file or uid1,uid2,…) dry-runs the resume
first: when state would still be dropped or the restore fail, nothing is
written; otherwise the written DST is checked again. Exit codes:
  0  written (and, with --against, every piece of state finds its operator)
  3  --against: some state would have no operator; nothing written
  4  --against: Flink would refuse the restore; nothing written
  1  error (unreadable SRC, a missing file, storage), 2 usage`,
		Example: `  ckpt rewrite --rename count-per-key=counts-v2 savepoint-3f2a1b-0c9d8e7f6a5b /data/sp/renamed
  ckpt rewrite --drop legacy-enricher --against orders,counts-v2,sink chk-42 /data/sp/without-enricher
  ckpt rewrite --set-uid-hash 2f7c5e1a9b3d4c6e8f0a1b2c3d4e5f60=dedupe SRC DST
  ckpt rewrite --rename count-per-key=counts-v2 --target-version V4 flink2-savepoint /data/sp/for-flink-1.20`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRewrite(cmd, args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.drop, "drop", nil, "leave out this operator's state (uid or 32-hex operator ID); repeatable")
	f.StringArrayVar(&o.rename, "rename", nil, "OLD_UID=NEW_UID: move an operator's state to a new uid; repeatable")
	f.StringArrayVar(&o.setUIDHash, "set-uid-hash", nil, "ID=UID: move the state of operator ID to uid UID (or hash:<32 hex>); repeatable")
	f.StringVar(&o.against, "against", "", "dry-run a resume of the result into this job first: a job spec, a uids file, or uid1,uid2,…")
	f.BoolVar(&o.copyOnly, "copy", false, "always copy files, never hard-link them")
	f.BoolVar(&o.json, "json", false, "print JSON for scripts")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes instead of KiB/MiB/GiB")
	f.StringVar(&o.version, "target-version", "", "write _metadata in this format version: V4 (Flink 1.16–1.20), V5 (2.0) or V6 (2.1–2.3); default SRC's")
	o.tf = addTargetFlags(cmd)
	cmd.Flags().Lookup("jobmanager").Usage = "write the _metadata version the Flink at this REST endpoint (`host:port`) reads (from its flink-version)"
	return cmd
}

// targetVersion is the format version --target-version and -m ask for; 0
// keeps the source's. Only an explicit -m is asked (rewrite and cp work
// offline): the format version its Flink writes, by its /config
// flink-version; ckpt's engine reads every version, so it asks for none.
// Both flags given must agree.
func targetVersion(cmd *cobra.Command, flag string, tf *targetFlags) (int, error) {
	v := 0
	if flag != "" {
		var err error
		if v, err = snapshot.ParseTargetVersion(flag); err != nil {
			return 0, usagef("--target-version: %v", err)
		}
	}
	if !cmd.Flags().Changed("jobmanager") {
		return v, nil
	}
	c, err := tf.client()
	if err != nil {
		return 0, err
	}
	info, err := c.Info(cmd.Context())
	if err != nil {
		return 0, fmt.Errorf("-m %s: reading its flink-version: %w", tf.target(), err)
	}
	if strings.HasPrefix(info.Version, "ckpt") {
		return v, nil // the engine reads every version
	}
	mv, err := snapshot.VersionForFlink(info.Version)
	if err != nil {
		return 0, fmt.Errorf("-m %s: %w", tf.target(), err)
	}
	if v != 0 && v != mv {
		return 0, usagef("--target-version V%d, but %s runs Flink %s, which writes V%d", v, tf.target(), info.Version, mv)
	}
	return mv, nil
}

// parseRewriteEdits turns the flags into edits of m.
// labels names operators of pre-2.0 snapshots (no stored uid) after the
// uids the user gave.
func parseRewriteEdits(m *snapshot.Metadata, o rewriteOptions) (e snapshot.Edits, labels map[snapshot.OperatorID]string, err error) {
	labels = map[snapshot.OperatorID]string{}
	lookup := func(flag, ref string) (*snapshot.OperatorState, error) {
		op, err := m.LookupOperator(ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		if _, isID := snapshot.ParseOperatorID(ref); isID != nil {
			labels[op.ID] = strings.TrimSpace(ref)
		}
		return op, nil
	}
	for _, d := range o.drop {
		op, err := lookup("--drop", d)
		if err != nil {
			return e, nil, err
		}
		e.Drop = append(e.Drop, op.ID)
	}
	target := func(flag, s string) (snapshot.Reassignment, error) {
		r, err := inspector.NewUIDReassignment(s)
		if err != nil {
			return r, usagef("%s: %v", flag, err)
		}
		return r, nil
	}
	for _, v := range o.rename {
		old, nu, ok := strings.Cut(v, "=")
		if !ok {
			return e, nil, usagef("--rename %q: want OLD_UID=NEW_UID", v)
		}
		op, err := lookup("--rename", old)
		if err != nil {
			return e, nil, err
		}
		r, err := target("--rename", nu)
		if err != nil {
			return e, nil, err
		}
		r.From = op.ID
		e.Reassign = append(e.Reassign, r)
	}
	for _, v := range o.setUIDHash {
		idText, nu, ok := strings.Cut(v, "=")
		if !ok {
			return e, nil, usagef("--set-uid-hash %q: want ID=UID", v)
		}
		id, err := snapshot.ParseOperatorID(idText)
		if err != nil {
			return e, nil, usagef("--set-uid-hash: %v", err)
		}
		if m.Operator(id) == nil {
			return e, nil, fmt.Errorf("--set-uid-hash: operator %s is not in the snapshot", id)
		}
		r, err := target("--set-uid-hash", nu)
		if err != nil {
			return e, nil, err
		}
		r.From = id
		e.Reassign = append(e.Reassign, r)
	}
	if len(e.Drop) == 0 && len(e.Reassign) == 0 {
		return e, nil, usagef("nothing to change: give --drop, --rename or --set-uid-hash (ckpt cp copies a snapshot unchanged)")
	}
	return e, labels, nil
}

func runRewrite(cmd *cobra.Command, src, dst string, o rewriteOptions) error {
	var target *inspector.Target
	var uids *inspector.UIDMapping
	if o.against != "" {
		t, err := targetFrom(o.against)
		if err != nil {
			return err
		}
		target = &t
		var entries []string
		for _, op := range t.Operators {
			if op.UID != "" {
				entries = append(entries, op.UID)
			}
		}
		if uids, err = inspector.NewUIDMapping(dedupe(entries)); err != nil {
			return usagef("%v", err)
		}
	}
	fsys := openStorage(cmd)
	defer fsys.Close()
	ctx := cmd.Context()
	m, err := snapshot.Read(ctx, fsys, src)
	if err != nil {
		return err
	}
	version, err := targetVersion(cmd, o.version, o.tf)
	if err != nil {
		return err
	}
	// Before the edits: a rename into V5+ records the new uid.
	conv := &snapshot.Conversion{From: m.Version, To: m.Version}
	if version != 0 {
		if conv, err = m.ConvertTo(version); err != nil {
			return fmt.Errorf("nothing was written to %s: %w", printable(dst), err)
		}
	}
	edits, labels, err := parseRewriteEdits(m, o)
	if err != nil {
		return err
	}
	rep, err := inspector.RewriteSnapshot(ctx, fsys, m, inspector.RewriteRequest{Dst: dst, Edits: edits, Labels: labels,
		Target: target, UIDs: uids, Link: !o.copyOnly})
	var editErr *inspector.RewriteEditError
	if errors.As(err, &editErr) {
		return usagef("%v", editErr.Err)
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	popts := inspectOptions{bytes: o.bytes}
	changes, res, plan := rep.Changes, rep.Files, rep.Resume
	if rep.Refused {
		if o.json {
			writeJSON(w, rewriteJSON{Src: src, Dst: dst, Format: conv, Changes: changes, Kept: rep.Kept, Resume: plan})
		} else {
			printPlan(w, plan, popts)
		}
		return WithExitCode(plan.ExitCode, fmt.Errorf("nothing was written to %s: the rewritten snapshot would not resume into %s as it stands", printable(dst), printable(target.Source)))
	}
	if o.json {
		writeJSON(w, rewriteJSON{Src: src, Dst: dst, Format: conv, Changes: changes, Kept: rep.Kept, Files: res, Resume: plan})
	} else {
		printRewrite(w, src, res, conv, changes, rep.Kept, o)
		if plan != nil {
			printPlan(w, plan, popts)
		}
	}
	if plan != nil && plan.ExitCode != 0 {
		return WithExitCode(plan.ExitCode, nil)
	}
	return nil
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// printFormat prints the format version line (and what a conversion did
// not keep) of rewrite and cp.
func printFormat(w io.Writer, c *snapshot.Conversion) {
	if c == nil {
		return
	}
	if c.From == c.To {
		fmt.Fprintf(w, "format      %s, as SRC\n", snapshot.FormatLabel(c.To))
		return
	}
	fmt.Fprintf(w, "format      v%d → %s\n", c.From, snapshot.FormatLabel(c.To))
	for _, n := range c.NotKept {
		fmt.Fprintf(w, "not kept    %s: v%d has no field for it (the operator ID, which Flink restores by, stays)\n", printable(n), c.To)
	}
}

func printRewrite(w io.Writer, src string, res *snapshot.RewriteResult, conv *snapshot.Conversion, changes []snapshot.Change, kept int, o rewriteOptions) {
	sz := func(n int64) string { return sizeIEC(n, o.bytes) }
	name := func(uid string, id snapshot.OperatorID) string {
		if uid == "" {
			return id.String()
		}
		return printable(uid)
	}
	fmt.Fprintf(w, "from        %s (unchanged)\n", printable(src))
	fmt.Fprintf(w, "to          %s (written last)\n", printable(res.Metadata))
	printFormat(w, conv)
	for _, c := range changes {
		switch c.Action {
		case "renamed":
			nu := c.NewUID
			if nu == "" {
				nu = inspector.HashPrefix + c.NewID.String()
			}
			fmt.Fprintf(w, "renamed     %s → %s  (ID %s → %s, %s of state)\n", name(c.UID, c.ID), printable(nu), c.ID, c.NewID, sz(c.StateSize))
		case "dropped":
			fmt.Fprintf(w, "dropped     %s  (ID %s, %s of state left out, %d %s not copied)\n", name(c.UID, c.ID), c.ID, sz(c.StateSize),
				c.Files, map[bool]string{true: "file", false: "files"}[c.Files == 1])
		}
	}
	fmt.Fprintf(w, "operators   %d kept\n", kept)
	var parts []string
	if res.Linked > 0 {
		parts = append(parts, fmt.Sprintf("%d hard-linked (same local filesystem)", res.Linked))
	}
	if res.Copied > 0 || res.Linked == 0 {
		parts = append(parts, fmt.Sprintf("%d copied", res.Copied))
	}
	files := strings.Join(parts, ", ") + "; " + sz(res.Bytes)
	if res.Outside > 0 {
		files += fmt.Sprintf("; %d from outside SRC (shared/, taskowned/) now inside DST", res.Outside)
	}
	fmt.Fprintf(w, "files       %s\n", files)
}
