package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/engine/bridge"
	"github.com/ckpt-dev/ckpt/engine/spec"
)

func init() { register(newConvertCmd) }

type convertOptions struct {
	to      string
	spec    string
	version string
	allowNR bool
	json    bool
	tf      *targetFlags
}

// Directions of ckpt convert (--to).
const (
	convertToFlink = "flink"
	convertToCkpt  = "ckpt"
)

func newConvertCmd() *cobra.Command {
	var o convertOptions
	cmd := &cobra.Command{
		Use:   "convert SRC DST --to flink|ckpt [--spec SPEC] [--target-version V | -m FLINK]",
		Short: "Convert a savepoint between ckpt's engine and Flink (ckpt's runner)",
		Long: `Converts the savepoint (or retained chk-N, or _metadata) SRC into a new
directory DST, for the other engine to resume the same job spec from.

--to flink: SRC is a savepoint of ckpt's engine (canonical or native, or a
retained checkpoint); DST becomes a Flink canonical savepoint that the spec's
job on Flink (ckpt submit SPEC -m FLINK, ckpt's runner) restores with all its
state: the same operator IDs, parallelism and max parallelism, every key in
the key group Flink gives it (Java's String.hashCode, not the engine's hash),
the sources' splits as the runner's reader state and enumerator state, the
file sink's pending files as its union state, and one event-time timer per
open window of window-count. State the runner has no counterpart for is
refused, naming the operator and the state. --spec SPEC checks that every
operator of SRC is one of the spec's (-n leaves out the state of those that
are not, as Flink's -n would drop it) and is needed for window-count (the
window size sets the timers); without it each operator's kind is told by its
state names.

DST's _metadata is V6 (Flink 2.1+) unless --target-version says otherwise
(V4 for Flink 1.16–1.20, V5 for 2.0) or -m names the Flink cluster it is for
(its flink-version decides).

SRC is only read. DST must not exist; if the conversion fails, the files it
wrote are removed again (and DST, when nothing else is in it).

--to ckpt: SRC is a Flink canonical savepoint or retained checkpoint
(hashmap, RocksDB full or incremental; _metadata V4 to V6) of a job that ran
on ckpt's runner; DST becomes a ckpt canonical savepoint that ckpt run -s
DST SPEC restores, at any parallelism: every key in the engine's key group,
the readers' splits and the enumerator's unassigned ones as the sources'
splits, the file sink's pending files; Flink's timers are left out (the
engine rebuilds window-count's timers from its windows). --spec SPEC checks
SRC against the spec by the restore rules (-n leaves out what the spec has
no operator for).

ckpt submit -s ENGINE_SAVEPOINT SPEC -m FLINK and ckpt run -s
FLINK_SAVEPOINT SPEC convert by themselves, into a new directory beside
the savepoint.`,
		Example: `  ckpt convert /tmp/ckpt/sp/savepoint-3f2a1b-0c9d8e7f6a5b /tmp/ckpt/sp/for-flink --to flink --spec jobs/exactly-once-counts.yaml
  ckpt convert sp/savepoint-3f2a1b-0c9d8e7f6a5b sp/for-flink-1.20 --to flink --target-version V4
  ckpt submit -m localhost:8081 -s /tmp/ckpt/sp/for-flink jobs/exactly-once-counts.yaml
  ckpt convert /flink/sp/savepoint-a1b2c3-4d5e6f7a8b9c /tmp/ckpt/sp/from-flink --to ckpt --spec jobs/exactly-once-counts.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("want SRC and DST, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd, args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "what to convert to: flink (a Flink canonical savepoint) or ckpt (a ckpt canonical savepoint)")
	f.StringVar(&o.spec, "spec", "", "the job spec SRC is of (checks the operators; needed for window-count)")
	f.StringVar(&o.version, "target-version", "", "write _metadata in this format version: V4 (Flink 1.16–1.20), V5 (2.0) or V6 (2.1+; default)")
	f.BoolVarP(&o.allowNR, "allowNonRestoredState", "n", false, "with --spec: leave out the state of operators that are not the spec's instead of refusing")
	f.BoolVar(&o.json, "json", false, "print JSON for scripts")
	o.tf = addTargetFlags(cmd)
	cmd.Flags().Lookup("jobmanager").Usage = "write the _metadata version the Flink at this REST endpoint (`host:port`) reads (from its flink-version)"
	return cmd
}

func runConvert(cmd *cobra.Command, src, dst string, o convertOptions) error {
	switch strings.ToLower(o.to) {
	case convertToFlink, convertToCkpt:
	case "":
		return usagef("--to: say what to convert to (flink or ckpt)")
	default:
		return usagef("--to %s: ckpt converts to flink or ckpt", o.to)
	}
	var sp *spec.Spec
	if o.spec != "" {
		var err error
		if sp, err = spec.Load(o.spec); err != nil {
			return err
		}
	}
	if strings.ToLower(o.to) == convertToCkpt {
		return runConvertToCkpt(cmd, src, dst, sp, o)
	}
	version, err := targetVersion(cmd, o.version, o.tf)
	if err != nil {
		return err
	}
	fsys := openStorage(cmd)
	defer fsys.Close()
	res, err := bridge.ToFlink(cmd.Context(), fsys, src, dst, bridge.ToFlinkOptions{Spec: sp, Version: version, AllowNonRestored: o.allowNR})
	if err != nil {
		return err
	}
	if o.json {
		writeJSON(cmd.OutOrStdout(), res)
		return nil
	}
	printToFlink(cmd.OutOrStdout(), res)
	return nil
}

// runConvertToCkpt converts the Flink snapshot src of a runner job into a
// ckpt canonical savepoint at dst (engine/bridge.FromFlink), checked
// against the spec's job by the restore rules when one is given.
func runConvertToCkpt(cmd *cobra.Command, src, dst string, sp *spec.Spec, o convertOptions) error {
	if o.version != "" || cmd.Flags().Changed("jobmanager") {
		return usagef("--target-version and -m are for --to flink: the engine reads what it writes")
	}
	if o.allowNR && sp == nil {
		return usagef("-n needs --spec: it leaves out the state of operators the spec does not have")
	}
	bo := bridge.FromFlinkOptions{AllowNonRestored: o.allowNR}
	if sp != nil {
		cfg, g, err := sp.Prepare(nil, nil)
		if err != nil {
			return err
		}
		eo, err := cfg.Resolve()
		if err != nil {
			return err
		}
		if err := g.Finalize(eo.Parallelism, eo.MaxParallelism); err != nil {
			return err
		}
		bo.Graph = g
	}
	fsys := openStorage(cmd)
	defer fsys.Close()
	res, err := bridge.ConvertFromFlink(cmd.Context(), fsys, src, dst, bo)
	if err != nil {
		return err
	}
	if res == nil {
		return fmt.Errorf("%s holds ckpt engine state, not Flink's: nothing to convert (ckpt run -s restores it as it is; --to flink converts it for Flink)", src)
	}
	if o.json {
		writeJSON(cmd.OutOrStdout(), res)
		return nil
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Converted %s\n       to %s (ckpt canonical savepoint)\n", src, res.Dir)
	names := make([]string, 0, len(res.Keys))
	for name := range res.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  keyed state %-10s %d keys\n", name, res.Keys[name])
	}
	fmt.Fprintf(w, "  source splits       %d (%d unassigned in the enumerator)\n", res.Splits, res.Unassigned)
	for _, u := range res.Dropped {
		fmt.Fprintf(w, "  dropped (-n): %s: no operator of the spec\n", u)
	}
	return nil
}

// printToFlink reports a conversion to Flink: where, which version, and
// what each operator carried.
func printToFlink(w io.Writer, res *bridge.ToFlinkResult) {
	fmt.Fprintf(w, "Converted %s\n       to %s (Flink canonical savepoint, _metadata V%d, %d files, %s)\n",
		res.Source, res.Dir, res.Version, res.Files, sizeIEC(res.Bytes, false))
	for _, op := range res.Operators {
		what := "no state"
		switch {
		case op.Keys > 0 || op.Timers > 0:
			what = fmt.Sprintf("%d keys", op.Keys)
			if op.Timers > 0 {
				what += fmt.Sprintf(", %d timers", op.Timers)
			}
		case op.Elements > 0:
			what = fmt.Sprintf("%d elements", op.Elements)
		}
		uid := op.UID
		if uid == "" {
			uid = "-"
		}
		fmt.Fprintf(w, "  %s  %-16s %-13s p=%d maxP=%d  %s", op.ID, uid, op.Kind, op.Parallelism, op.MaxParallelism, what)
		if len(op.States) > 0 {
			fmt.Fprintf(w, "  [%s]", strings.Join(op.States, ", "))
		}
		fmt.Fprintln(w)
	}
	for _, d := range res.Dropped {
		fmt.Fprintf(w, "  dropped (-n): %s: no operator of the spec\n", d)
	}
	for _, n := range res.NotKept {
		fmt.Fprintf(w, "  not kept in V%d: %s\n", res.Version, n)
	}
}

// convertEngineSavepoint is the snapshot a job spec resumes from on Flink
// (flinkVersion): path itself, or — when path holds ckpt's engine state —
// the Flink canonical savepoint it is converted into, beside it
// (bridge.ForFlink, which the TUI's launch on Flink uses too). A path that
// cannot be read from here is left to the dry run and the cluster.
func convertEngineSavepoint(cmd *cobra.Command, out io.Writer, path string, sp *spec.Spec, flinkVersion string, allowNR bool) (string, error) {
	fsys := openStorage(cmd)
	defer fsys.Close()
	res, err := bridge.ForFlink(cmd.Context(), fsys, path, flinkVersion, bridge.ToFlinkOptions{Spec: sp, AllowNonRestored: allowNR})
	if err != nil || res == nil {
		return path, err
	}
	fmt.Fprintf(out, "-s %s holds ckpt engine state: converted for Flink %s.\n", path, flinkVersion)
	printToFlink(out, res)
	return res.Dir, nil
}
