package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/snapshot"
)

func init() { register(newCpCmd) }

type cpOptions struct {
	dryRun   bool
	json     bool
	bytes    bool
	parallel int
	version  string
	tf       *targetFlags
}

func newCpCmd() *cobra.Command {
	var o cpOptions
	cmd := &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy a savepoint, a retained checkpoint or a job's checkpoint dir to another place or storage",
		Long: `Copies the checkpoint or savepoint SRC (a savepoint dir, a chk-N dir or its
_metadata) to the directory DST, on local disk or hdfs:// either side, with no JVM.

SRC may also be a job's checkpoint directory (<checkpoint-dir>/<job-id>): every
complete chk-N is copied to DST/chk-N, each file once and in its place
(DST/shared/…, DST/chk-N/…), their _metadata naming the files absolutely below
DST, as Flink's own checkpoints do; chk-N without _metadata are not copied.

Every file SRC's _metadata references is copied below DST — a retained
checkpoint's files in its job's shared/ and taskowned/ directories too (to
DST/shared/, DST/taskowned/) — and _metadata is rewritten to name them relative
to DST: the copy resumes from its new place (flink run -s DST) and no longer
depends on SRC or its job directory. _metadata is written last, so a copy cut
short never looks complete.

A rerun into the same DST copies only what is missing: a file already there
with the source's size and SHA-256 is kept. A file there with other bytes was
not written by ckpt and is refused, never overwritten; nothing is ever deleted.
DST's parent must exist. --dry-run lists what would be copied. Progress (files,
bytes, rate, ETA) goes to stderr on a terminal; --json prints only the result.
The copy's _metadata keeps SRC's format version; --target-version V4|V5|V6 or
-m TARGET writes another, as for ckpt rewrite (V4 for Flink 1.16–1.20).
Exit codes: 0 copied (or nothing left to copy), 1 error, 2 usage.`,
		Example: `  ckpt cp /flink/checkpoints/3f2a…/chk-42 hdfs://namenode:8020/backup/orders-chk-42
  ckpt cp --dry-run hdfs:///savepoints/savepoint-3f2a1b-0c9d8e7f6a5b /data/savepoints/copy`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCp(cmd, args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.dryRun, "dry-run", false, "list what would be copied; write nothing")
	f.BoolVar(&o.json, "json", false, "print the result as JSON (no progress)")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes instead of KiB/MiB/GiB")
	f.IntVar(&o.parallel, "parallel", 4, "files copied at once")
	f.StringVar(&o.version, "target-version", "", "write _metadata in this format version: V4 (Flink 1.16–1.20), V5 (2.0) or V6 (2.1–2.3); default SRC's")
	o.tf = addTargetFlags(cmd)
	cmd.Flags().Lookup("jobmanager").Usage = "write the _metadata version the Flink at this REST endpoint (`host:port`) reads (from its flink-version)"
	return cmd
}

func runCp(cmd *cobra.Command, src, dst string, o cpOptions) error {
	if o.parallel < 1 {
		return usagef("--parallel %d: want at least 1", o.parallel)
	}
	fsys := openStorage(cmd)
	defer fsys.Close()
	ctx := cmd.Context()
	version, err := targetVersion(cmd, o.version, o.tf)
	if err != nil {
		return err
	}
	opts := snapshot.CopyOptions{DryRun: o.dryRun, Parallel: o.parallel, Version: version}
	var bar *progressLine
	if !o.json && !o.dryRun {
		if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(f.Fd()) {
			bar = &progressLine{w: f, start: time.Now(), bytes: o.bytes}
			opts.Progress = bar.update
		}
	}
	res, job, err := snapshot.CopyPath(ctx, fsys, src, dst, opts)
	bar.done()
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if o.json {
		if job != nil {
			writeJSON(w, job)
		} else {
			writeJSON(w, res)
		}
		return nil
	}
	sz := func(n int64) string { return sizeIEC(n, o.bytes) }
	if o.dryRun {
		rows := [][]string{{"ACTION", "SIZE", "FILE", "TO"}}
		for _, f := range res.Files {
			rows = append(rows, []string{f.Action, sz(f.Size), printable(f.Src), printable(f.Dst)})
		}
		printTable(w, rows, map[int]bool{1: true})
		fmt.Fprintf(w, "dry run: %d files (%s) to copy, %d (%s) already there; then %s\n", res.Copied, sz(res.CopiedBytes),
			res.Present, sz(res.PresentBytes), printable(res.Metadata))
		printFormat(w, res.Conversion)
		return nil
	}
	fmt.Fprintf(w, "from        %s (unchanged)\n", printable(src))
	state := "written last"
	if res.AlreadyComplete {
		state = "already there: the copy was complete"
	}
	fmt.Fprintf(w, "to          %s (%s)\n", printable(res.Metadata), state)
	printFormat(w, res.Conversion)
	files := fmt.Sprintf("%d copied (%s)", res.Copied, sz(res.CopiedBytes))
	if res.Present > 0 {
		files += fmt.Sprintf(", %d already there (%s, same size and SHA-256)", res.Present, sz(res.PresentBytes))
	}
	if res.Outside > 0 {
		files += fmt.Sprintf("; %d from outside SRC (shared/, taskowned/) now inside DST", res.Outside)
	}
	fmt.Fprintf(w, "files       %s\n", files)
	if job != nil {
		for _, c := range job.Checkpoints {
			fmt.Fprintf(w, "checkpoint  %s\n", printable(c))
		}
		for _, c := range job.Skipped {
			fmt.Fprintf(w, "not copied  %s (no _metadata: in progress, failed or aborted)\n", printable(c))
		}
	}
	return nil
}

// progressLine redraws one status line on a terminal.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	bytes bool
	drawn bool
}

func (p *progressLine) update(pr snapshot.CopyProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rate, left, ok := pr.Rate(time.Since(p.start))
	eta := "?"
	if ok {
		eta = left.String()
	}
	line := fmt.Sprintf("%d/%d files, %s/%s, %s/s, ETA %s", pr.FilesDone, pr.Files, sizeIEC(pr.BytesDone, p.bytes),
		sizeIEC(pr.Bytes, p.bytes), sizeIEC(int64(rate), false), eta)
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
}

// done ends the status line (nil-safe).
func (p *progressLine) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
