package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
)

func init() { register(newDiffCmd) }

type diffOptions struct {
	json                bool
	bytes               bool
	uids, uidsFile, job string
}

func newDiffCmd() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two snapshots",
		Long: `Compares two checkpoints or savepoints (each a _metadata file, a chk-N dir or a
savepoint dir, local or hdfs://) operator by operator: operators added (only in
B), removed (only in A) and changed (parallelism, max parallelism, uid, state
kinds, size), with size deltas, and the files both reference (what an
incremental checkpoint B reuses from A).

--uids/--uids-file/--job name the operators of snapshots older than Flink 2.0,
as for ckpt inspect. --json prints one object (schema in the README).`,
		Example: `  ckpt diff chk-41 chk-42
  ckpt diff --uids source,count-per-key savepoint-3f2a1b-0c9d8e7f6a5b savepoint-3f2a1b-91aa02b3c4d5`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if TUIRequested(cmd) {
				// The TUI reads these files itself: refuse a FIFO or device here.
				for _, f := range []struct{ flag, path string }{{"--uids-file", o.uidsFile}, {"--job", o.job}} {
					if err := refuseIrregular(f.flag, f.path); err != nil {
						return err
					}
				}
				return RunTUI(cmd, "diff", append(args, diffTUIArgs(o)...)...)
			}
			entries, err := mappingEntries(o.uids, o.uidsFile, o.job)
			if err != nil {
				return err
			}
			var uids *inspector.UIDMapping
			if len(entries) > 0 {
				if uids, err = inspector.NewUIDMapping(dedupe(entries)); err != nil {
					return usagef("%v", err)
				}
			}
			fsys := openStorage(cmd)
			defer fsys.Close()
			a, err := snapshot.Read(cmd.Context(), fsys, args[0])
			if err != nil {
				return err
			}
			b, err := snapshot.Read(cmd.Context(), fsys, args[1])
			if err != nil {
				return err
			}
			d := inspector.Compare(a, b, uids)
			d.From.Path, d.To.Path = args[0], args[1]
			if o.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			}
			printDiff(cmd.OutOrStdout(), d, o)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print JSON for scripts (stable field names)")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes")
	f.StringVar(&o.uids, "uids", "", "comma-separated operator uids (for snapshots older than Flink 2.0)")
	f.StringVar(&o.uidsFile, "uids-file", "", "file with one operator uid per line")
	f.StringVar(&o.job, "job", "", "ckpt job spec whose operators name the snapshots'")
	AddTUIFlag(cmd)
	return cmd
}

func diffTUIArgs(o diffOptions) []string {
	switch {
	case o.job != "":
		return []string{"--uids=@" + o.job}
	case o.uidsFile != "":
		return []string{"--uids=@" + o.uidsFile}
	case o.uids != "":
		return []string{"--uids=" + o.uids}
	}
	return nil
}

func signedSize(n int64, exact bool) string {
	if n < 0 {
		return "-" + sizeIEC(-n, exact)
	}
	return "+" + sizeIEC(n, exact)
}

func printDiff(w io.Writer, d *inspector.Diff, o diffOptions) {
	sz := func(n int64) string { return sizeIEC(n, o.bytes) }
	for _, s := range []struct {
		tag  string
		info inspector.SnapshotInfo
	}{{"a", d.From}, {"b", d.To}} {
		fmt.Fprintf(w, "%s  %s: %s %d, %s, %d operators, %s\n", s.tag, printable(s.info.Path), s.info.Kind,
			s.info.CheckpointID, snapshot.FormatLabel(s.info.FormatVersion), s.info.Operators, sz(s.info.StateSize))
	}
	fmt.Fprintf(w, "state size %s; files: %d only in a (%s), %d only in b (%s), %d in both (%s)\n\n",
		signedSize(d.StateSizeDelta, o.bytes), d.Files.OnlyA, sz(d.Files.OnlyABytes), d.Files.OnlyB, sz(d.Files.OnlyBBytes),
		d.Files.Both, sz(d.Files.BothBytes))
	rows := [][]string{{"", "OPERATOR ID", "UID", "A", "B", "DELTA", "CHANGES"}}
	add := func(mark string, ops []inspector.DiffOperator) {
		for _, op := range ops {
			uid := printable(op.UID)
			if uid == "" {
				uid = "-"
			}
			changes := strings.Join(op.Changes, "; ")
			if changes == "" {
				changes = "-"
			}
			rows = append(rows, []string{mark, op.ID, uid, sz(op.SizeA), sz(op.SizeB), signedSize(op.Delta, o.bytes), printable(changes)})
		}
	}
	add("+", d.Added)
	add("-", d.Removed)
	add("~", d.Changed)
	if len(rows) > 1 {
		printTable(w, rows, map[int]bool{3: true, 4: true, 5: true})
	}
	fmt.Fprintf(w, "%d added, %d removed, %d changed, %d unchanged\n", len(d.Added), len(d.Removed), len(d.Changed), d.Unchanged)
}
