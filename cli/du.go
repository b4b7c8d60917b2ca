package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newDuCmd) }

type duOptions struct {
	depth  int
	json   bool
	bytes  bool
	sortBy string
	// orphans: list files under shared/ no retained checkpoint references
	// (cli/du_orphans.go, analysis in inspector).
	orphans bool
}

func newDuCmd() *cobra.Command {
	var o duOptions
	cmd := &cobra.Command{
		Use:   "du URI",
		Short: "Disk usage of a directory on local disk or HDFS",
		Long: `Totals the bytes, files and directories under URI (local disk, file:// or
hdfs://). On HDFS the NameNode adds it up in one call per directory shown
(a content summary), so even huge trees answer quickly; local trees are walked.

With -d N, every entry down to depth N gets its own line (a per-child
breakdown with -d 1), followed by the total. Directories count the directory
itself, so a tree's dirs equal the sum of its children's plus one.

--json prints one object: {uri, bytes, files, dirs, children: [...]} where each
child also has name and type ("file" or "dir") and, below depth N, no children.`,
		Example: `  ckpt du hdfs://namenode:8020/flink/checkpoints/3f2a…
  ckpt du -d 1 --sort size /var/flink/checkpoints/3f2a…
  ckpt du --json -d 1 hdfs:///flink/checkpoints | jq '.children[] | {name, bytes}'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.depth < 0 {
				return usagef("--depth must be 0 or more, got %d", o.depth)
			}
			if o.sortBy != "name" && o.sortBy != "size" {
				return usagef("--sort must be name or size, got %q", o.sortBy)
			}
			fsys := openStorage(cmd)
			defer fsys.Close()
			if o.orphans {
				return runOrphans(cmd, fsys, args[0], o)
			}
			rep, err := diskUsage(cmd, fsys, args[0], o)
			if err != nil {
				return err
			}
			if o.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printDu(cmd.OutOrStdout(), rep, o)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.depth, "depth", "d", 0, "also show every entry down to this depth (1 = per-child breakdown)")
	f.BoolVar(&o.json, "json", false, "print JSON for scripts (stable field names)")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes instead of KiB/MiB/GiB")
	f.StringVar(&o.sortBy, "sort", "name", "order of the entries of a directory: name, or size (largest first)")
	f.BoolVar(&o.orphans, "orphans", false, "list files under a job's shared/ that no retained checkpoint references (URI: a job dir or a checkpoint root)")
	return cmd
}

// duReport is the usage of one entry and, down to the requested depth, of
// its children. Its JSON field names are a contract with scripts; later
// analyses (e.g. orphaned shared state) add fields rather than change these.
type duReport struct {
	URI      string      `json:"uri"`
	Name     string      `json:"name,omitempty"`
	Type     string      `json:"type"`
	Bytes    int64       `json:"bytes"`
	Files    int64       `json:"files"`
	Dirs     int64       `json:"dirs"`
	Children []*duReport `json:"children,omitempty"`
}

func diskUsage(cmd *cobra.Command, fsys storage.FS, uri string, o duOptions) (*duReport, error) {
	ctx := cmd.Context()
	root, err := fsys.Stat(ctx, uri)
	if err != nil {
		return nil, err
	}
	rep, err := duEntry(cmd, fsys, root, o, 0)
	if err != nil {
		return nil, err
	}
	rep.URI, rep.Name = uri, "" // the root as the user spelled it
	return rep, nil
}

// duEntry totals fi. Down to the requested depth it lists and totals each
// child (the parent's totals are then the children's sum, so nothing is
// counted twice); below it, one Summarize call covers the whole subtree.
func duEntry(cmd *cobra.Command, fsys storage.FS, fi storage.FileInfo, o duOptions, depth int) (*duReport, error) {
	ctx := cmd.Context()
	rep := &duReport{URI: fi.URI, Name: fi.Name, Type: "file"}
	if !fi.IsDir {
		rep.Bytes, rep.Files = fi.Size, 1
		return rep, nil
	}
	rep.Type = "dir"
	if depth >= o.depth {
		u, err := storage.Summarize(ctx, fsys, fi.URI)
		if err != nil {
			return nil, err
		}
		rep.Bytes, rep.Files, rep.Dirs = u.Bytes, u.Files, u.Dirs
		return rep, nil
	}
	rep.Dirs = 1
	l, err := fsys.List(ctx, fi.URI)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	for {
		page, err := l.Next(ctx)
		for _, child := range page {
			c, cerr := duEntry(cmd, fsys, child, o, depth+1)
			if cerr != nil {
				return nil, cerr
			}
			rep.Bytes += c.Bytes
			rep.Files += c.Files
			rep.Dirs += c.Dirs
			rep.Children = append(rep.Children, c)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	sortDu(rep.Children, o.sortBy)
	return rep, nil
}

func sortDu(children []*duReport, by string) {
	sort.Slice(children, func(i, j int) bool {
		a, b := children[i], children[j]
		if by == "size" && a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		return a.Name < b.Name
	})
}

// printDu prints aligned rows, children before their parent (like du), the
// total last with the URI as given.
func printDu(w io.Writer, rep *duReport, o duOptions) {
	type row struct{ size, files, dirs, path string }
	var rows []row
	var walk func(r *duReport, prefix string)
	walk = func(r *duReport, prefix string) {
		for _, c := range r.Children {
			name := strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f {
					return '?'
				}
				return r
			}, c.Name)
			p := prefix + name
			if c.Type == "dir" {
				p += "/"
			}
			walk(c, p)
			rows = append(rows, row{sizeIEC(c.Bytes, o.bytes), fmt.Sprint(c.Files), fmt.Sprint(c.Dirs), p})
		}
	}
	walk(rep, "")
	rows = append(rows, row{sizeIEC(rep.Bytes, o.bytes), fmt.Sprint(rep.Files), fmt.Sprint(rep.Dirs), rep.URI})
	head := row{"SIZE", "FILES", "DIRS", "PATH"}
	ws, wf, wd := len(head.size), len(head.files), len(head.dirs)
	for _, r := range rows {
		ws, wf, wd = max(ws, len(r.size)), max(wf, len(r.files)), max(wd, len(r.dirs))
	}
	for _, r := range append([]row{head}, rows...) {
		fmt.Fprintf(w, "%*s  %*s  %*s  %s\n", ws, r.size, wf, r.files, wd, r.dirs, r.path)
	}
}
