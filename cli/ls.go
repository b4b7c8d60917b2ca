package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/internal/units"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newLsCmd) }

type lsOptions struct {
	long, all, json, bytes, unsorted, self, verbose bool
}

func newLsCmd() *cobra.Command {
	var o lsOptions
	cmd := &cobra.Command{
		Use:   "ls URI",
		Short: "List a directory on local disk, HDFS or an object store",
		Long: `Lists a directory (or shows one file) on local disk, file://, hdfs://, s3://,
gs://, abfs[s]:// or wasb[s]://.

Names are sorted, chk-N directories by N, newest first (chk-10 before chk-9);
directories end in "/". Names starting with "." are hidden
unless -a is given — that includes unfinished writes (.<name>.ckpt-tmp-…),
which -l marks as such. Huge directories are read page by page; -U prints each
page as it arrives instead of sorting the whole listing first.

-v first says on stderr how the URI is reached: the backend, its endpoint
and where the credentials come from (a Flink key, the environment, the
cloud's default chain) — never the credentials themselves.

--json prints one JSON array, an object per entry with the fields
uri, name, type ("file" or "dir"), size (bytes), mtime (RFC 3339, UTC),
mode (like "drwxr-xr-x"), owner, group and temporary (an unfinished write).`,
		Example: `  ckpt ls /var/flink/checkpoints/3f2a…/
  ckpt ls -l hdfs://namenode:8020/flink/checkpoints
  ckpt ls --json hdfs:///flink/savepoints | jq -r '.[] | select(.type=="dir") | .uri'
  ckpt ls -v abfss://flink@myacct.dfs.core.windows.net/checkpoints`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys := openStorage(cmd)
			defer fsys.Close()
			if o.verbose {
				desc, err := fsys.Describe(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", args[0], desc)
			}
			return runLs(cmd, fsys, args[0], o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.long, "long", "l", false, "long format: mode, owner, group, size, modification time")
	f.BoolVarP(&o.all, "all", "a", false, "include names starting with \".\" (unfinished writes among them)")
	f.BoolVar(&o.json, "json", false, "print a JSON array for scripts (stable field names)")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes instead of KiB/MiB/GiB")
	f.BoolVarP(&o.unsorted, "unsorted", "U", false, "print entries page by page in storage order (for huge directories)")
	f.BoolVarP(&o.self, "directory", "d", false, "show a directory itself, not its contents")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "say on stderr how the URI is reached and where its credentials come from")
	return cmd
}

// lsEntry is the JSON shape of one entry; its field names are a contract
// with scripts.
type lsEntry struct {
	URI       string `json:"uri"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Size      int64  `json:"size"`
	MTime     string `json:"mtime"`
	Mode      string `json:"mode"`
	Owner     string `json:"owner"`
	Group     string `json:"group"`
	Temporary bool   `json:"temporary"`
}

func toLsEntry(fi storage.FileInfo) lsEntry {
	e := lsEntry{URI: fi.URI, Name: fi.Name, Type: "file", Size: fi.Size, Mode: fi.Mode.String(),
		Owner: fi.Owner, Group: fi.Group, Temporary: storage.IsTemporary(fi.Name)}
	if fi.IsDir {
		e.Type, e.Size = "dir", 0
	}
	if !fi.ModTime.IsZero() {
		e.MTime = fi.ModTime.UTC().Format(time.RFC3339)
	}
	return e
}

func runLs(cmd *cobra.Command, fsys storage.FS, uri string, o lsOptions) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	root, err := fsys.Stat(ctx, uri)
	if err != nil {
		return err
	}
	p := newLsPrinter(out, o)
	if !root.IsDir || o.self {
		p.add([]storage.FileInfo{root})
		return p.finish()
	}
	p.listing = true
	l, err := fsys.List(ctx, uri)
	if err != nil {
		return err
	}
	defer l.Close()
	for {
		page, err := l.Next(ctx)
		if !o.all {
			page = dropHidden(page)
		}
		p.add(page)
		if errors.Is(err, io.EOF) {
			return p.finish()
		}
		if err != nil {
			p.finish() // what was read so far is still worth seeing
			return err
		}
	}
}

func dropHidden(page []storage.FileInfo) []storage.FileInfo {
	out := page[:0]
	for _, fi := range page {
		if !strings.HasPrefix(fi.Name, ".") {
			out = append(out, fi)
		}
	}
	return out
}

// lsPrinter prints entries in the chosen format: sorted and aligned after
// the last page, or (-U) each page as it comes with fixed column widths.
type lsPrinter struct {
	w       io.Writer
	o       lsOptions
	listing bool // a directory's contents (long format then ends with totals)
	pending []storage.FileInfo
	n       int // entries printed
	dirs    int
	files   int
	bytes   int64
}

func newLsPrinter(w io.Writer, o lsOptions) *lsPrinter { return &lsPrinter{w: w, o: o} }

func (p *lsPrinter) add(page []storage.FileInfo) {
	for _, fi := range page {
		if fi.IsDir {
			p.dirs++
		} else {
			p.files++
			p.bytes += fi.Size
		}
	}
	if !p.o.unsorted {
		p.pending = append(p.pending, page...)
		return
	}
	p.print(page, false)
}

func (p *lsPrinter) finish() error {
	if !p.o.unsorted {
		slices.SortStableFunc(p.pending, func(a, b storage.FileInfo) int { return snapshot.CompareEntryNames(a.Name, b.Name) })
		p.print(p.pending, true)
		p.pending = nil
	}
	switch {
	case p.o.json:
		if p.n == 0 {
			fmt.Fprintln(p.w, "[]")
		} else {
			fmt.Fprint(p.w, "\n]\n")
		}
	case p.o.long && p.listing:
		fmt.Fprintf(p.w, "%s, %s, %s in files\n", plural(p.dirs, "dir"), plural(p.files, "file"), sizeIEC(p.bytes, p.o.bytes))
	}
	return nil
}

func (p *lsPrinter) print(entries []storage.FileInfo, align bool) {
	switch {
	case p.o.json:
		for _, fi := range entries {
			b, _ := json.Marshal(toLsEntry(fi))
			sep := ",\n"
			if p.n == 0 {
				sep = "[\n"
			}
			fmt.Fprintf(p.w, "%s%s", sep, b)
			p.n++
		}
	case p.o.long:
		rows := make([][]string, 0, len(entries))
		for _, fi := range entries {
			size := "-"
			if !fi.IsDir {
				size = sizeIEC(fi.Size, p.o.bytes)
			}
			mtime := "-"
			if !fi.ModTime.IsZero() {
				mtime = fi.ModTime.Local().Format("2006-01-02 15:04:05")
			}
			name := displayName(fi)
			if storage.IsTemporary(fi.Name) {
				name += "  (unfinished write)"
			}
			rows = append(rows, []string{fi.Mode.String(), orDash(fi.Owner), orDash(fi.Group), size, mtime, name})
		}
		widths := []int{10, 8, 10, 10, 19, 0} // fixed widths when streaming
		if align {
			widths = columnWidths(rows)
		}
		for _, r := range rows {
			fmt.Fprintf(p.w, "%-*s  %-*s  %-*s  %*s  %-*s  %s\n", widths[0], r[0], widths[1], r[1], widths[2], r[2], widths[3], r[3], widths[4], r[4], r[5])
		}
		p.n += len(rows)
	default:
		for _, fi := range entries {
			fmt.Fprintln(p.w, displayName(fi))
		}
		p.n += len(entries)
	}
}

// displayName is the name as ls shows it: directories end in "/", and
// control characters cannot reach the terminal.
func displayName(fi storage.FileInfo) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, fi.Name)
	if fi.IsDir && !strings.HasSuffix(name, "/") {
		name += "/"
	}
	return name
}

func columnWidths(rows [][]string) []int {
	w := make([]int, 6)
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	return w
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// sizeIEC prints a byte count the way every ckpt screen does
// (units.Bytes: 1.50 MiB), or exactly when exact is set (--bytes).
func sizeIEC(n int64, exact bool) string {
	if exact {
		return fmt.Sprint(n)
	}
	return units.Bytes(n)
}
