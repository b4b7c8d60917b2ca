package cli

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newStateCmd) }

type stateOptions struct {
	operator, state, key string
	limit                int
	json, csv, histogram bool
}

func newStateCmd() *cobra.Command {
	var o stateOptions
	cmd := &cobra.Command{
		Use:   "state PATH",
		Short: "Show what a snapshot's state holds: state names, types, entries",
		Long: `Reads the state files a checkpoint or savepoint references (local disk or
HDFS) and shows, per operator (uid, name, ID), its keyed states — kind,
key/namespace/value types, TTL — and its operator (list, union, broadcast)
states, from the serializer snapshots Flink writes. No JVM.

--operator UID|ID (with --state NAME) prints entries: key, namespace, map key
and value, up to --limit; --json prints one JSON object per entry with typed
values, --csv one CSV row per entry. --histogram counts the operator's keyed
entries per key group (every entry is read; --state narrows it) and shows
how they spread over the key groups. --key K looks one key up the way Flink places it (Java hashCode, then
murmur hash and the key-group formula) and reads only that key group. Entries are read from canonical savepoints, hashmap
checkpoints and native savepoints, and RocksDB native savepoints and full or
incremental checkpoints (the SST files, every block's checksum verified). Kryo and Java-serialized values are shown as
their class and raw bytes, never guessed. Snapshots of ckpt's own engine are
read in its format (Pebble tables and change logs, or canonical key-group
streams), with each state's entries and bytes; --key places the key with the
engine's hash.`,
		Example: `  ckpt state /flink/savepoints/savepoint-1a2b3c-4d5e6f7a8b9c
  ckpt state sp/ --operator counter --state count --limit 20
  ckpt state sp/ --operator counter --json | jq .value
  ckpt state sp/ --operator counter --csv --limit 0 > counter.csv
  ckpt state sp/ --operator counter --histogram`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys := openStorage(cmd)
			defer fsys.Close()
			ctx := cmd.Context()
			m, err := snapshot.Read(ctx, fsys, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if o.operator == "" {
				if o.state != "" || o.histogram || o.csv {
					return usagef("--state, --csv and --histogram need --operator")
				}
				schema := state.ReadSchemaWithStats(ctx, fsys, m)
				if o.json {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					return enc.Encode(schema)
				}
				printStateSchema(out, schema)
				return nil
			}
			if o.json && o.csv {
				return usagef("--json and --csv exclude each other")
			}
			op, err := findOperator(m, o.operator)
			if err != nil {
				return err
			}
			if o.histogram {
				return printHistogram(cmd, fsys, out, m, op, o)
			}
			return printEntries(cmd, fsys, out, m, op, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.operator, "operator", "", "print the entries of this operator (uid or 32-hex operator ID)")
	f.StringVar(&o.state, "state", "", "only this state (with --operator)")
	f.StringVar(&o.key, "key", "", "only this key (with --operator): reads just the key group Flink puts it in; Tuple fields separated by ','")
	f.IntVar(&o.limit, "limit", 100, "at most this many entries (0: all)")
	f.BoolVar(&o.json, "json", false, "JSON: the schema as one document, entries one object per line")
	f.BoolVar(&o.csv, "csv", false, "entries as CSV (with --operator): a header, then one row per entry; values as compact JSON")
	f.BoolVar(&o.histogram, "histogram", false, "with --operator: keyed entries per key group (all of them, streaming), as a histogram")
	return cmd
}

// findOperator picks an operator by uid (also for snapshots that store
// none: the uid's hash is the operator ID) or by its hex ID.
func findOperator(m *snapshot.Metadata, s string) (*snapshot.OperatorState, error) {
	id := snapshot.OperatorIDFromUID(s)
	if parsed, err := snapshot.ParseOperatorID(s); err == nil {
		id = parsed
	}
	var ids []string
	for _, op := range m.Operators {
		if op.UID == s || op.ID == id {
			return op, nil
		}
		ids = append(ids, op.ID.String())
	}
	return nil, fmt.Errorf("no operator with uid or ID %q in this snapshot (operator IDs: %s)", s, strings.Join(ids, ", "))
}

func printStateSchema(w io.Writer, schema []state.OperatorSchema) {
	for i, op := range schema {
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := op.UID
		if name == "" {
			name = op.Name
		}
		if name == "" {
			name = "(no uid recorded)"
		}
		fmt.Fprintf(w, "operator %s  %s  parallelism %d, max parallelism %d\n", op.ID, name, op.Parallelism, op.MaxParallel)
		if op.Keyed == nil && op.Operator == nil && len(op.Errors) == 0 {
			fmt.Fprintln(w, "  no state")
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if p := op.Keyed; p != nil {
			fmt.Fprintf(tw, "  keyed state (%s), key %s\n", op.KeyedFormat, p.Key)
			stats := map[string]state.StateStats{}
			for _, s := range op.Stats {
				stats[s.Name] = s
			}
			if op.Stats != nil {
				fmt.Fprintln(tw, "  STATE\tKIND\tNAMESPACE\tVALUE\tTTL\tENTRIES\tBYTES")
			} else {
				fmt.Fprintln(tw, "  STATE\tKIND\tNAMESPACE\tVALUE\tTTL")
			}
			for _, s := range p.States {
				ttl := ""
				if s.TTL() {
					ttl = "yes"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s", s.Name, s.Kind(), typeName(s.Serializers[state.RoleNamespace]), typeName(s.Serializers[state.RoleValue]), ttl)
				if op.Stats != nil {
					fmt.Fprintf(tw, "\t%d\t%d", stats[s.Name].Entries, stats[s.Name].Bytes)
				}
				fmt.Fprintln(tw)
			}
		}
		if p := op.Operator; p != nil {
			fmt.Fprintln(tw, "  operator state")
			fmt.Fprintln(tw, "  STATE\tMODE\tKEY\tVALUE")
			for _, s := range append(append([]*state.Meta{}, p.States...), p.Broadcast...) {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Name, s.Kind(), typeName(s.Serializers[state.RoleKey]), typeName(s.Serializers[state.RoleValue]))
			}
		}
		tw.Flush()
		for _, e := range op.Errors {
			fmt.Fprintln(w, "  cannot read:", e)
		}
	}
}

func typeName(t *state.Type) string {
	if t == nil {
		return "-"
	}
	return t.String()
}

var errLimit = errors.New("limit reached")

func printEntries(cmd *cobra.Command, fsys storage.FS, w io.Writer, m *snapshot.Metadata, op *snapshot.OperatorState, o stateOptions) error {
	var keyed, operator bool
	for _, st := range op.Subtasks {
		keyed = keyed || st.ManagedKeyedState != nil
		operator = operator || st.ManagedOperatorState != nil
	}
	n := 0
	limited := false
	if keyed || o.key != "" {
		var err error
		if n, limited, err = printKeyed(cmd, fsys, w, m, op, o); err != nil {
			return err
		}
	}
	if operator && o.key == "" && !limited {
		k, lim, err := printOperatorState(cmd, fsys, w, m, op, o, n)
		if err != nil {
			return err
		}
		n, limited = n+k, lim
	}
	switch {
	case limited:
		fmt.Fprintf(cmd.ErrOrStderr(), "first %d entries (--limit)\n", o.limit)
	case n == 0:
		fmt.Fprintln(cmd.ErrOrStderr(), "no entries")
	}
	return nil
}

// printKeyed prints keyed entries (all, or one key's), counting towards
// --limit. A scan streams through state.ScanKeyed: each entry is printed
// from the reader's reused memory, before the next one is decoded.
func printKeyed(cmd *cobra.Command, fsys storage.FS, w io.Writer, m *snapshot.Metadata, op *snapshot.OperatorState, o stateOptions) (int, bool, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	cw := csv.NewWriter(bw)
	switch {
	case o.csv:
		cw.Write([]string{"state", "key_group", "key", "namespace", "user_key", "value"})
	case !o.json:
		fmt.Fprintln(tw, "STATE\tKEY GROUP\tKEY\tNAMESPACE\tVALUE")
	}
	n := 0
	read := func(fn func(*state.Entry) error) error {
		return state.ScanKeyed(cmd.Context(), fsys, m, op, o.state, fn)
	}
	if o.key != "" {
		p, format, err := state.ReadKeyedSchema(cmd.Context(), fsys, m, op)
		if err != nil {
			return 0, false, err
		}
		if p == nil {
			return 0, false, fmt.Errorf("operator %s has no keyed state", op.ID)
		}
		key, err := state.ParseKey(p.Key, o.key)
		if err != nil {
			return 0, false, err
		}
		read = func(fn func(*state.Entry) error) error {
			_, err := state.LookupKey(cmd.Context(), fsys, m, op, o.state, format, key, func(e state.Entry) error { return fn(&e) })
			return err
		}
	}
	var line []byte
	var row [6]string
	err := read(func(e *state.Entry) error {
		if o.limit > 0 && n >= o.limit {
			return errLimit
		}
		n++
		var err error
		switch {
		case o.json:
			if line, err = e.AppendJSON(line[:0]); err != nil {
				return err
			}
			_, err = bw.Write(append(line, '\n'))
		case o.csv:
			uk := ""
			if e.UserKey != nil {
				uk = compact(e.UserKey)
			}
			row = [6]string{e.State, strconv.Itoa(e.KeyGroup), compact(e.Key), compact(e.Namespace), uk, compact(e.Value)}
			err = cw.Write(row[:])
		default:
			line = append(line[:0], e.State...)
			line = append(line, '\t')
			line = strconv.AppendInt(line, int64(e.KeyGroup), 10)
			line = append(line, '\t')
			line = state.AppendCompact(line, e.Key)
			if e.UserKey != nil {
				line = state.AppendCompact(append(line, " / "...), e.UserKey)
			}
			line = state.AppendCompact(append(line, '\t'), e.Namespace)
			line = state.AppendCompact(append(line, '\t'), e.Value)
			_, err = tw.Write(append(line, '\n'))
		}
		return err
	})
	tw.Flush()
	cw.Flush()
	if ferr := bw.Flush(); err == nil || errors.Is(err, errLimit) {
		if ferr != nil {
			return n, false, ferr
		}
	}
	if errors.Is(err, errLimit) {
		return n, true, nil
	}
	return n, false, err
}

// printOperatorState prints operator state elements, Kafka partitions and
// offsets by name; seen entries already count towards --limit.
func printOperatorState(cmd *cobra.Command, fsys storage.FS, w io.Writer, m *snapshot.Metadata, op *snapshot.OperatorState, o stateOptions, seen int) (int, bool, error) {
	enc := json.NewEncoder(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cw := csv.NewWriter(w)
	defer cw.Flush()
	switch {
	case o.csv:
		cw.Write([]string{"operator_state", "subtask", "mode", "value"})
	case !o.json:
		fmt.Fprintln(tw, "OPERATOR STATE\tSUBTASK\tMODE\tVALUE")
	}
	n := 0
	err := state.ReadOperators(cmd.Context(), fsys, m, op, func(e state.OperatorElement) error {
		if o.state != "" && e.State != o.state {
			return nil
		}
		if o.limit > 0 && seen+n >= o.limit {
			return errLimit
		}
		n++
		if o.json {
			return enc.Encode(e)
		}
		if o.csv {
			return cw.Write([]string{e.State, fmt.Sprint(e.Subtask), e.Mode, compact(e.Value)})
		}
		v := compact(e.Value)
		if k, ok := e.Value.(state.KafkaSplit); ok {
			v = "Kafka " + k.String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", e.State, e.Subtask, e.Mode, v)
		return nil
	})
	tw.Flush()
	if errors.Is(err, errLimit) {
		return n, true, nil
	}
	return n, false, err
}

// histogramRows bounds the histogram's height: key groups are grouped
// into at most this many contiguous ranges.
const histogramRows = 32

// printHistogram counts op's keyed entries per key group (streaming, every
// entry) and prints them in at most histogramRows contiguous ranges, each
// with its count and a bar, then the totals and the fullest key group.
func printHistogram(cmd *cobra.Command, fsys storage.FS, w io.Writer, m *snapshot.Metadata, op *snapshot.OperatorState, o stateOptions) error {
	maxP := int(op.MaxParallelism)
	if maxP <= 0 {
		return fmt.Errorf("operator %s records no max parallelism (%d)", op.ID, op.MaxParallelism)
	}
	counts := make([]int64, maxP)
	var total int64
	err := state.ScanKeyed(cmd.Context(), fsys, m, op, o.state, func(e *state.Entry) error {
		if e.KeyGroup >= 0 && e.KeyGroup < maxP {
			counts[e.KeyGroup]++
			total++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(w)
		return enc.Encode(struct {
			Operator  string  `json:"operator_id"`
			State     string  `json:"state,omitempty"`
			KeyGroups []int64 `json:"entries_per_key_group"`
			Total     int64   `json:"entries"`
		}{op.ID.String(), o.state, counts, total})
	}
	width := (maxP + histogramRows - 1) / histogramRows
	var rows [][2]int64 // first key group, count
	var peak int64
	for start := 0; start < maxP; start += width {
		var n int64
		for _, c := range counts[start:min(start+width, maxP)] {
			n += c
		}
		rows = append(rows, [2]int64{int64(start), n})
		peak = max(peak, n)
	}
	what := "every keyed state"
	if o.state != "" {
		what = fmt.Sprintf("state %q", o.state)
	}
	fmt.Fprintf(w, "operator %s, %s: %d entries in %d key groups\n", op.ID, what, total, maxP)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "KEY GROUPS\tENTRIES\t")
	for _, r := range rows {
		end := min(int(r[0])+width, maxP) - 1
		bar := 0
		if peak > 0 {
			bar = int((r[1]*40 + peak - 1) / peak)
		}
		fmt.Fprintf(tw, "%d-%d\t%d\t%s\n", r[0], end, r[1], strings.TrimRight(" "+strings.Repeat("#", bar), " "))
	}
	tw.Flush()
	fullest, at := int64(0), 0
	empty := 0
	for kg, c := range counts {
		if c > fullest {
			fullest, at = c, kg
		}
		if c == 0 {
			empty++
		}
	}
	fmt.Fprintf(w, "fullest key group %d (%d entries), %d empty key groups\n", at, fullest, empty)
	return nil
}

// compact is state.Compact: the one rendering of a value, shared with the
// TUI's state screen.
func compact(v state.Value) string { return state.Compact(v) }
