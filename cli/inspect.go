package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
)

func init() { register(newInspectCmd) }

type inspectOptions struct {
	json       bool
	uids       string
	uidsFile   string
	job        string
	against    string
	noCheck    bool
	files      bool
	subtasks   bool
	bytes      bool
	concurrent int
	// A jar as --against: its plan comes from the Flink cluster of tf.
	tf         *targetFlags
	entryClass string
	progArgs   []string
	parallel   int
}

// inspectJSON is the --json document: the report, plus the resume plan
// with --against.
type inspectJSON struct {
	*inspector.Report
	Resume *inspector.ResumePlan `json:"resume,omitempty"`
}

func newInspectCmd() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect PATH",
		Short: "Show what a checkpoint or savepoint holds",
		Long: `Reads a checkpoint or savepoint — a _metadata file, a chk-N directory or a
savepoint-… directory, on local disk or hdfs:// — with no JVM, and shows its
format version, checkpoint id, kind (checkpoint, or savepoint CANONICAL/NATIVE),
every operator with its ID, uid, parallelism, max parallelism, state kinds and
sizes, the files it references (exclusive to the snapshot, in the job's shared/
directory, elsewhere) and whether they exist on storage.

Flink ≥ 2.0 records each operator's uid in _metadata. For older snapshots, name
the operators with --uids, --uids-file or --job: ckpt hashes each uid the way
Flink does (murmur3_128) and matches the IDs. An entry "hash:<32 hex>" (or
"label=hash:<32 hex>") is a literal operator ID, for operators pinned with
setUidHash.

--against dry-runs a resume (flink run -s PATH) into a new job, given as a job
spec, a uids file, a comma-separated uid list, or a jar (a local .jar file, or
the ID of a jar uploaded to the cluster) with -m FLINK [--class C] [--arg A]...
[-p N]: Flink builds the jar's job graph (POST /jars/:jarid/plan, nothing runs)
and ckpt applies the same rules to it. Flink's plan names each job vertex by
its chain head's operator ID and carries no max parallelism: state of an
operator chained inside a vertex is matched by its uid where that is known
(Flink 2.x snapshots record uids; --uids for older ones) and is otherwise
UNKNOWN (exit 6), never called lost or restored; max parallelism is not
checked. Using Flink's restore rules, it shows:
which state is restored, which has no operator in the new job (restoring then
needs --allow-non-restored-state, and that state is lost), which operators start
empty, and which max-parallelism changes make the restore fail. Exit codes:
  0  every piece of state finds its operator
  3  some state has no operator: Flink refuses without -n; with -n it is lost
  4  Flink refuses the restore even with -n (max parallelism)
  6  the dry run cannot tell whether some state finds its operator (a jar's
     chained operators, see above)
  1  error (unreadable snapshot, storage, the cluster's plan), 2 usage`,
		Example: `  ckpt inspect hdfs://namenode:8020/flink/checkpoints/3f2a…/chk-42
  ckpt inspect --uids source,count-per-key,sink savepoint-3f2a1b-0c9d8e7f6a5b
  ckpt inspect --json /data/savepoints/savepoint-3f2a1b-0c9d8e7f6a5b | jq '.operators[] | {uid, state_size}'
  ckpt inspect --against jobs/orders-v2.yaml savepoint-3f2a1b-0c9d8e7f6a5b
  ckpt inspect --against orders-2.4.jar -m jm:8081 --class com.acme.Orders --arg --env --arg prod savepoint-3f2a1b-0c9d8e7f6a5b`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print JSON for scripts (schema in the README; stable field names)")
	f.StringVar(&o.uids, "uids", "", "comma-separated operator uids to name operators of snapshots older than Flink 2.0")
	f.StringVar(&o.uidsFile, "uids-file", "", "file with one operator uid per line (# comments allowed)")
	f.StringVar(&o.job, "job", "", "ckpt job spec whose operators name the snapshot's")
	f.StringVar(&o.against, "against", "", "dry-run a resume into this job: a job spec, a uids file, or uid1,uid2,…")
	f.BoolVar(&o.noCheck, "no-check", false, "do not check that referenced files exist on storage")
	f.BoolVar(&o.files, "files", false, "list every referenced file")
	f.BoolVar(&o.subtasks, "subtasks", false, "show every subtask's handles and sizes")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes instead of KiB/MiB/GiB")
	f.IntVar(&o.concurrent, "check-concurrency", 16, "parallel existence checks")
	f.StringVarP(&o.entryClass, "class", "c", "", "--against JAR: the program's entry class (default: the jar's manifest)")
	f.StringArrayVar(&o.progArgs, "arg", nil, "--against JAR: one program argument (repeatable, in order)")
	f.IntVarP(&o.parallel, "parallelism", "p", 0, "--against JAR: the job's default parallelism, as flink run -p")
	o.tf = addTargetFlags(cmd)
	AddTUIFlag(cmd)
	return cmd
}

// inspectTUIArgs passes the new job to the TUI's inspect screen: --against
// turns its dry-run on; --uids/--uids-file/--job only name operators.
func inspectTUIArgs(o inspectOptions) []string {
	switch {
	case o.against != "":
		return []string{"--against=" + tuiTarget(o.against)}
	case o.job != "":
		return []string{"--uids=@" + o.job}
	case o.uidsFile != "":
		return []string{"--uids=@" + o.uidsFile}
	case o.uids != "":
		return []string{"--uids=" + o.uids}
	}
	return nil
}

func runInspect(cmd *cobra.Command, path string, o inspectOptions) error {
	jar := o.against != "" && isJarRef(o.against)
	if !jar && (o.entryClass != "" || len(o.progArgs) > 0 || o.parallel != 0) {
		return usagef("--class, --arg and -p apply to --against JAR")
	}
	if o.parallel < 0 {
		return usagef("-p %d: parallelism must be positive", o.parallel)
	}
	if jar && TUIRequested(cmd) {
		return usagef("--against JAR: the dry run of a jar is not in the TUI yet; run it without -i")
	}
	if TUIRequested(cmd) {
		// The TUI reads these files itself: refuse a FIFO or device here.
		for _, f := range []struct{ flag, path string }{{"--uids-file", o.uidsFile}, {"--job", o.job}, {"--against", o.against}} {
			if err := refuseIrregular(f.flag, f.path); err != nil {
				return err
			}
		}
		return RunTUI(cmd, "inspect", append([]string{path}, inspectTUIArgs(o)...)...)
	}
	entries, err := mappingEntries(o.uids, o.uidsFile, o.job)
	if err != nil {
		return err
	}
	var target *inspector.Target
	if o.against != "" {
		var t inspector.Target
		if jar {
			t, err = jarTarget(cmd, o.tf, o.against, cluster.RunRequest{EntryClass: o.entryClass,
				ProgramArgs: o.progArgs, Parallelism: o.parallel})
		} else {
			t, err = targetFrom(o.against)
		}
		if err != nil {
			return err
		}
		target = &t
		for _, op := range t.Operators {
			if op.UID != "" {
				entries = append(entries, op.UID)
			}
		}
	}
	var uids *inspector.UIDMapping
	if len(entries) > 0 {
		if uids, err = inspector.NewUIDMapping(dedupe(entries)); err != nil {
			return usagef("%v", err)
		}
	}
	fsys := openStorage(cmd)
	defer fsys.Close()
	ctx := cmd.Context()
	m, err := snapshot.Read(ctx, fsys, path)
	if err != nil {
		return err
	}
	rep, err := inspector.Examine(ctx, fsys, m, inspector.Options{UIDs: uids, CheckFiles: !o.noCheck,
		ListFiles: o.files, Concurrency: o.concurrent, WarnUnmatchedUIDs: target == nil})
	if err != nil {
		return err
	}
	rep.Path = path
	var plan *inspector.ResumePlan
	if target != nil {
		plan = inspector.PlanResume(m, *target, uids)
		inspector.AssessUpgrade(ctx, fsys, m, plan, *target)
	}
	w := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(inspectJSON{Report: rep, Resume: plan}); err != nil {
			return err
		}
	} else {
		printReport(w, rep, o)
		if plan != nil {
			printPlan(w, plan, o)
		}
	}
	if rep.CannotRestore() {
		// Decoded, but no resume can work: its own code, ahead of the
		// dry run's (which assumes the files are there).
		return WithExitCode(inspector.ExitMissingFiles, fmt.Errorf("%s %s", printable(path), rep.Verdict))
	}
	if plan != nil && plan.ExitCode != 0 {
		return WithExitCode(plan.ExitCode, nil)
	}
	return nil
}

// isJarRef: an --against or program value that names a jar: a path or
// jar ID ending in .jar, or a file that is a zip archive.
func isJarRef(s string) bool {
	if strings.HasSuffix(strings.ToLower(s), ".jar") {
		return true
	}
	// Stat first: opening a FIFO would block.
	if fi, err := os.Stat(s); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(s)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	return isJar("", head[:n])
}

// jarTarget is the resume target of a jar's program: Flink's plan of it
// (flinkrest.PlanJar: a local jar is uploaded for the plan and removed,
// a jar ID is used as it is) from the cluster tf names, turned into a
// target by inspector.TargetFromJobPlan.
func jarTarget(cmd *cobra.Command, tf *targetFlags, jar string, req cluster.RunRequest) (inspector.Target, error) {
	ctx := cmd.Context()
	c, err := tf.client()
	if err != nil {
		return inspector.Target{}, err
	}
	ov, err := c.Overview(ctx)
	if err != nil {
		return inspector.Target{}, err
	}
	if strings.HasPrefix(ov.Version, "ckpt") {
		return inspector.Target{}, fmt.Errorf("%s runs ckpt's embedded engine (%s), which runs job specs, not jars: a jar's dry run needs the Flink cluster that will run it (-m)", c.URL(), ov.Version)
	}
	plan, err := flinkrest.PlanJar(ctx, c, jar, req)
	if err != nil {
		return inspector.Target{}, fmt.Errorf("the plan of %s on %s: %w", jar, c.URL(), err)
	}
	source := "jar " + filepath.Base(jar)
	if req.EntryClass != "" {
		source += " (" + req.EntryClass + ")"
	}
	return inspector.TargetFromJobPlan(source+" on Flink "+ov.Version, plan)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// printable replaces control characters so a hostile uid or path cannot
// drive the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func printReport(w io.Writer, r *inspector.Report, o inspectOptions) {
	sz := func(n int64) string { return sizeIEC(n, o.bytes) }
	kind := r.Kind
	if r.SavepointFormat != "" {
		kind += " (" + r.SavepointFormat + ")"
	}
	if r.KindSource != "" && r.KindSource != "trailer" {
		kind += ", from the " + map[string]string{"directory": "directory name", "handles": "handle kinds"}[r.KindSource]
	}
	if r.TypeName != "" && !strings.EqualFold(r.TypeName, r.Kind) {
		kind += ", " + r.TypeName
	}
	t := r.Totals
	if r.Verdict != "" {
		// Where the eye lands first.
		fmt.Fprintf(w, "RESTORE     %s\n", strings.ToUpper(r.Verdict[:1])+r.Verdict[1:])
	}
	fmt.Fprintf(w, "metadata    %s (%s)\n", printable(r.Metadata), sz(r.MetadataBytes))
	fmt.Fprintf(w, "format      %s\n", snapshot.FormatLabel(r.FormatVersion))
	fmt.Fprintf(w, "snapshot    %s, id %d\n", kind, r.CheckpointID)
	fmt.Fprintf(w, "operators   %d (%d with state), %d subtasks\n", t.Operators, t.OperatorsWithState, t.Subtasks)
	// The three sizes side by side: what this checkpoint uploaded (the
	// delta), the logical full size, and what storage really holds for it.
	disk := "on disk not measured (--no-check)"
	if d := r.Sizes; d.OnDisk >= 0 {
		disk = fmt.Sprintf("%s on disk (%s own dir + %s referenced outside it)", sz(d.OnDisk), sz(d.OnDiskOwn), sz(d.OnDiskReferenced))
	}
	fmt.Fprintf(w, "state       %s checkpointed (delta), %s full, %s\n", sz(t.CheckpointedSize), sz(t.StateSize), disk)
	files := fmt.Sprintf("%d exclusive (%s), %d shared (%s)", t.Exclusive, sz(t.ExclusiveBytes), t.Shared, sz(t.SharedBytes))
	if t.TaskOwned > 0 {
		files += fmt.Sprintf(", %d taskowned (%s)", t.TaskOwned, sz(t.TaskOwnedBytes))
	}
	if t.External > 0 {
		files += fmt.Sprintf(", %d elsewhere (%s)", t.External, sz(t.ExternalBytes))
	}
	files += fmt.Sprintf("; %s inline", sz(t.InlineBytes))
	switch {
	case t.Missing < 0:
		files += "; existence not checked"
	case t.Missing == 0 && t.Files > 0:
		files += fmt.Sprintf("; all %d exist", t.Files)
	case t.Missing > 0:
		files += fmt.Sprintf("; %d MISSING", t.Missing)
	}
	fmt.Fprintf(w, "files       %s\n", files)
	for _, ms := range r.MasterStates {
		fmt.Fprintf(w, "master      %s v%d (%s)\n", printable(ms.Name), ms.Version, sz(int64(ms.Bytes)))
	}
	fmt.Fprintln(w)

	rows := [][]string{{"OPERATOR ID", "UID", "P", "MAXP", "STATE", "CHECKPOINTED", "KINDS"}}
	for _, op := range r.Operators {
		uid := printable(op.UID)
		switch {
		case uid == "" && op.Name != "":
			uid = "- (" + printable(op.Name) + ")"
		case uid == "":
			uid = "-"
		case op.UIDSource == "mapping":
			uid += " [mapped]"
		}
		kinds := strings.Join(op.StateKinds, " ")
		if op.FullyFinished {
			kinds = "FINISHED " + kinds
		} else if op.FinishedSubtasks > 0 {
			kinds = fmt.Sprintf("%d finished %s", op.FinishedSubtasks, kinds)
		}
		if kinds == "" {
			kinds = "-"
		}
		rows = append(rows, []string{op.ID, uid, fmt.Sprint(op.Parallelism), fmt.Sprint(op.MaxParallelism),
			sz(op.StateSize), sz(op.CheckpointedSize), strings.TrimSpace(kinds)})
		if o.subtasks {
			for _, st := range op.Subtasks {
				rows = append(rows, []string{"", fmt.Sprintf("  subtask %d", st.Index), "", "", sz(st.StateSize), sz(st.CheckpointedSize), subtaskKinds(st)})
			}
		}
	}
	printTable(w, rows, map[int]bool{2: true, 3: true, 4: true, 5: true})

	if len(r.Files) > 0 {
		fmt.Fprintln(w)
		frows := [][]string{{"SCOPE", "ROLE", "SIZE", "EXISTS", "FILE"}}
		for _, f := range r.Files {
			ex := "?"
			switch {
			case f.Exists != nil && *f.Exists:
				ex = "yes"
			case f.Exists != nil:
				ex = "MISSING"
			case f.CheckError != "":
				ex = "error: " + f.CheckError
			case f.ResolveError != "":
				ex = "unresolvable"
			}
			name := f.URI
			if name == "" {
				name = f.Stored
			}
			frows = append(frows, []string{f.Scope, f.Role, sz(f.Size), ex, printable(name)})
		}
		printTable(w, frows, map[int]bool{2: true})
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", printable(warn))
	}
}

func subtaskKinds(st inspector.SubtaskReport) string {
	if st.Finished {
		return "finished"
	}
	var parts []string
	for _, h := range []struct {
		slot string
		h    *inspector.HandleInfo
	}{{"keyed", st.ManagedKeyed}, {"raw-keyed", st.RawKeyed}, {"operator", st.ManagedOperator}, {"raw-operator", st.RawOperator}} {
		if h.h == nil {
			continue
		}
		s := h.slot + ":" + h.h.Kind
		if h.h.KeyGroups != "" {
			s += " kg " + h.h.KeyGroups
		}
		if len(h.h.States) > 0 {
			s += " " + strings.Join(h.h.States, ", ")
		}
		if h.h.Files > 0 {
			s += fmt.Sprintf(" (%d files)", h.h.Files)
		}
		parts = append(parts, s)
	}
	if n := st.InputChannels + st.OutputChannels; n > 0 {
		parts = append(parts, fmt.Sprintf("channels %d in / %d out", st.InputChannels, st.OutputChannels))
	}
	if len(parts) == 0 {
		return "-"
	}
	return printable(strings.Join(parts, "; "))
}

func printPlan(w io.Writer, p *inspector.ResumePlan, o inspectOptions) {
	sz := func(n int64) string { return sizeIEC(n, o.bytes) }
	name := func(op inspector.PlanOperator) string {
		s := printable(op.UID)
		if s == "" {
			s = "-"
		}
		return s
	}
	fmt.Fprintf(w, "\nresume dry run against %s\n", printable(p.Target))
	section := func(title string, ops []inspector.PlanOperator, size bool) {
		if len(ops) == 0 {
			return
		}
		fmt.Fprintf(w, "  %s\n", title)
		for _, op := range ops {
			line := fmt.Sprintf("    %s  %s", op.ID, name(op))
			if size {
				line += "  " + sz(op.StateSize)
			}
			if op.Note != "" {
				line += "  — " + op.Note
			}
			fmt.Fprintln(w, line)
		}
	}
	section(fmt.Sprintf("restored (%d): state goes to the operator with the same ID", len(p.Restored)), p.Restored, true)
	section(fmt.Sprintf("DROPPED (%d, %s): state with no operator in the new job", len(p.Dropped), sz(p.DroppedBytes)), p.Dropped, true)
	section(fmt.Sprintf("new (%d): no state in the snapshot, starts empty", len(p.New)), p.New, false)
	section(fmt.Sprintf("skipped (%d): no state and no operator in the new job", len(p.SkippedEmpty)), p.SkippedEmpty, false)
	section(fmt.Sprintf("KEYED STATE IGNORED (%d, %s): the operator is not keyed in the new job; Flink resumes without it", len(p.KeyedStateIgnored), sz(p.IgnoredBytes)),
		p.KeyedStateIgnored, true)
	section(fmt.Sprintf("UNKNOWN (%d, %s): the dry run cannot tell whether this state is restored", len(p.Unknown), sz(p.UnknownBytes)),
		p.Unknown, true)
	if len(p.Failures) > 0 {
		fmt.Fprintf(w, "  FAILS (%d)\n", len(p.Failures))
		for _, f := range p.Failures {
			fmt.Fprintf(w, "    %s  %s  — %s\n", f.ID, printable(f.UID), f.Reason)
		}
	}
	printUpgrade(w, p.Upgrade)
	unchecked := p.MaxParallelismCheck == inspector.MaxParallelismNotChecked
	switch {
	case p.ExitCode == inspector.ExitResumeOK && unchecked:
		fmt.Fprintln(w, "verdict: every piece of state finds its operator; max parallelism NOT CHECKED (the target carries none: a uid list, or a jar's plan):\n"+
			"  Flink still refuses if the new job configures a different max parallelism or a parallelism above the snapshot's")
	case p.ExitCode == inspector.ExitResumeUnknown:
		fmt.Fprintf(w, "verdict: UNKNOWN: %s of state may have no operator in the new job (see UNKNOWN above): if so, Flink refuses without -n and that state is LOST with -n\n", sz(p.UnknownBytes))
	case p.ExitCode == inspector.ExitResumeOK:
		fmt.Fprintln(w, "verdict: the resume restores all state")
	case p.ExitCode == inspector.ExitResumeDropState && len(p.Dropped) == 0:
		fmt.Fprintf(w, "verdict: Flink resumes, but %s of keyed state is LOST (restored into operators that are not keyed)\n", sz(p.IgnoredBytes))
	case p.ExitCode == inspector.ExitResumeDropState:
		fmt.Fprintf(w, "verdict: Flink refuses to resume without --allow-non-restored-state (-n); with it, %s of state is LOST\n", sz(p.DroppedBytes))
	default:
		fmt.Fprintln(w, "verdict: Flink refuses to resume, with or without --allow-non-restored-state")
	}
	if unchecked && p.ExitCode != inspector.ExitResumeOK && p.ExitCode != inspector.ExitResumeFails {
		fmt.Fprintln(w, "note: max parallelism NOT CHECKED (the target carries none: a uid list, or a jar's plan); a job spec can be checked")
	}
	if len(p.Unknown) > 0 && p.ExitCode != inspector.ExitResumeUnknown {
		fmt.Fprintf(w, "note: besides, %s of state is UNKNOWN (see above)\n", sz(p.UnknownBytes))
	}
	if p.Uncertain && len(p.Unknown) == 0 {
		fmt.Fprintln(w, "note: some operators have no uid; give a job spec for exact IDs")
	}
}

// printUpgrade prints the upgrade risks of the restored state; the
// serializer changes Flink refuses are among the FAILS above.
func printUpgrade(w io.Writer, u *inspector.UpgradeRisks) {
	if u == nil {
		return
	}
	var lines []string
	for _, r := range u.Risks {
		if r.Refused {
			continue
		}
		lines = append(lines, fmt.Sprintf("    %-4s  %s  %s  %s %s — %s", r.Risk.Label(), r.OperatorID, printable(r.UID), printable(r.What()), printable(r.Type), r.Detail))
	}
	engine, unread := 0, []inspector.SchemaGap{}
	for _, g := range u.Unread {
		if g.Engine {
			engine++
		} else {
			unread = append(unread, g)
		}
	}
	if len(lines) == 0 && len(unread) == 0 && engine == 0 {
		checked := ""
		if u.TypesChecked {
			checked = "; the job spec's state types match"
		}
		fmt.Fprintf(w, "  upgrade risks: none (no Kryo, Java serialization or TTL in the restored state%s)\n", checked)
		return
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "  upgrade risks (%d, snapshot written by %s)\n", len(lines), u.WrittenBy)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		if u.KryoGuidance != "" {
			fmt.Fprintf(w, "    Kryo: %s\n", u.KryoGuidance)
		}
	}
	if engine > 0 {
		fmt.Fprintf(w, "  upgrade risks not checked for %d operators: ckpt engine state records no serializer types\n", engine)
	}
	if len(unread) > 0 {
		fmt.Fprintf(w, "  upgrade risks UNKNOWN for %d operators (state schema not read)\n", len(unread))
		for _, g := range unread {
			fmt.Fprintf(w, "    %s  %s  — %s\n", g.OperatorID, printable(g.UID), printable(g.Reason))
		}
	}
}

// printTable prints left-aligned columns (right-aligned where asked).
func printTable(w io.Writer, rows [][]string, right map[int]bool) {
	width := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := width[i] - len([]rune(c))
			if i == len(r)-1 {
				if right[i] {
					b.WriteString(strings.Repeat(" ", pad))
				}
				b.WriteString(c)
				break
			}
			if right[i] {
				b.WriteString(strings.Repeat(" ", pad) + c)
			} else {
				b.WriteString(c + strings.Repeat(" ", pad))
			}
			b.WriteString("  ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
