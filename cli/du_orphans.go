package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// orphansJSON is `ckpt du --orphans --json`.
type orphansJSON struct {
	URI         string                    `json:"uri"`
	Jobs        []*inspector.OrphanReport `json:"jobs"`
	OrphanFiles int64                     `json:"orphan_files"`
	OrphanBytes int64                     `json:"orphan_bytes"`
}

// runOrphans is `ckpt du --orphans URI`. URI is a job directory
// (<checkpoint-dir>/<job-id>) or a checkpoint root holding job directories;
// with a root, every job's retained checkpoints protect the files they
// reference in any job's shared/ (a job resumed with CLAIM or LEGACY keeps
// using its predecessor's files).
func runOrphans(cmd *cobra.Command, fsys storage.FS, uri string, o duOptions) error {
	ctx := cmd.Context()
	fi, err := fsys.Stat(ctx, uri)
	if err != nil {
		return err
	}
	if !fi.IsDir {
		return usagef("du --orphans: %s is a file; give a job directory or a checkpoint root", uri)
	}
	jobs, err := snapshot.ListJobDirs(ctx, fsys, uri)
	if err != nil {
		return err
	}
	var dirs []string
	for _, j := range jobs {
		dirs = append(dirs, j.URI)
	}
	var extra map[string]bool
	if len(dirs) == 0 {
		dirs = []string{uri} // a job directory itself
	} else if extra, err = inspector.References(ctx, fsys, dirs...); err != nil {
		return err
	}
	out := orphansJSON{URI: uri, Jobs: []*inspector.OrphanReport{}}
	for _, d := range dirs {
		r, err := inspector.FindOrphans(ctx, fsys, d, extra)
		if err != nil {
			return err
		}
		out.Jobs = append(out.Jobs, r)
		out.OrphanFiles += r.OrphanFiles
		out.OrphanBytes += r.OrphanBytes
	}
	if o.json {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printOrphans(cmd.OutOrStdout(), out, o.bytes)
	return nil
}

func printOrphans(w io.Writer, out orphansJSON, exact bool) {
	sz := func(n int64) string { return sizeIEC(n, exact) }
	for i, r := range out.Jobs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "job dir     %s\n", printable(r.JobDir))
		fmt.Fprintf(w, "retained    %s", idList(r.Checkpoints))
		if len(r.Incomplete) > 0 {
			fmt.Fprintf(w, " (incomplete, no _metadata: %s)", idList(r.Incomplete))
		}
		fmt.Fprintln(w)
		// Incomplete chk-N older than the latest complete one were left
		// behind by failed or aborted checkpoints (FLINK-38909 leaked whole
		// folders); newer ones may still be running.
		var latest int64 = -1
		for _, id := range r.Checkpoints {
			latest = max(latest, id)
		}
		var stale, running []int64
		for _, id := range r.Incomplete {
			if id < latest {
				stale = append(stale, id)
			} else {
				running = append(running, id)
			}
		}
		if len(stale) > 0 {
			fmt.Fprintf(w, "stale       %s: no _metadata, older than the latest checkpoint (failed or aborted, left behind)\n", idList(stale))
		}
		if len(running) > 0 {
			fmt.Fprintf(w, "running?    %s: no _metadata, newer than the latest checkpoint (in progress, or failed just now)\n", idList(running))
		}
		fmt.Fprintf(w, "shared/     %d files (%s): %d referenced (%s), %d orphaned (%s)\n", r.SharedFiles, sz(r.SharedBytes),
			r.ReferencedFiles, sz(r.ReferencedBytes), r.OrphanFiles, sz(r.OrphanBytes))
		if len(r.Orphans) > 0 {
			rows := [][]string{{"SIZE", "MODIFIED", "ORPHANED FILE"}}
			for _, f := range r.Orphans {
				name := printable(f.URI)
				if f.MaybeInProgress {
					name += "  (newer than the latest checkpoint: may belong to one in progress)"
				}
				rows = append(rows, []string{sz(f.Size), f.ModTime.UTC().Format(time.DateTime), name})
			}
			printTable(w, rows, map[int]bool{0: true})
		}
		for _, m := range r.MissingReferenced {
			fmt.Fprintf(w, "MISSING     %s (referenced by a retained checkpoint)\n", printable(m))
		}
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "warning: %s\n", printable(warn))
		}
	}
	if len(out.Jobs) > 1 {
		fmt.Fprintf(w, "\ntotal: %d orphaned files, %s\n", out.OrphanFiles, sz(out.OrphanBytes))
	}
}

func idList(ids []int64) string {
	if len(ids) == 0 {
		return "none"
	}
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += snapshot.CheckpointDirName(id)
	}
	return s
}
