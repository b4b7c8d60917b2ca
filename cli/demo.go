package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui"
)

func init() { register(newDemoCmd) }

// `ckpt demo DIR` lays out a Flink-style snapshot tree built from the real
// Flink `_metadata` fixtures, then opens the TUI on the embedded engine
// with a job running that checkpoints into the same tree: what `make run`
// does, so the TUI shows something real — live checkpoints, retained chk-N
// directories, savepoints — with no setup.
func newDemoCmd() *cobra.Command {
	var fixtures, job string
	var noTUI bool
	cmd := &cobra.Command{
		Use:   "demo DIR",
		Short: "Open the TUI on the embedded engine with a demo job, over a snapshot tree built in DIR",
		Long: `Builds DIR/checkpoints/<job-id>/{chk-17,chk-18,chk-19,shared,taskowned} and
DIR/savepoints/savepoint-… from real Flink _metadata files (../shared/fixtures/flink-metadata
in the source tree), then opens the TUI on the embedded engine with --job (default
jobs/windowed-counts.yaml, if present) running. Jobs launched in the TUI checkpoint into
DIR/checkpoints and take savepoints into DIR/savepoints, next to the fixtures; b browses DIR.

DIR must be a local directory that does not exist yet, is empty, or was made by ckpt demo
(it holds a ` + demoMarker + ` file). ckpt demo never deletes anything: run again, it rewrites
its own fixture files and keeps every checkpoint and savepoint jobs or you made there.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Everything is checked before anything is written.
			dir, fresh, err := demoTarget(args[0])
			if err != nil {
				return err
			}
			tree, err := tui.LoadDemoTree(fixtures)
			if err != nil {
				return fmt.Errorf("--fixtures %s: %w", fixtures, err)
			}
			var launch []string
			if job != "" {
				if _, err := os.Stat(job); err == nil {
					launch = []string{job}
				} else if cmd.Flags().Changed("job") {
					return fmt.Errorf("--job %s: %w", job, err)
				}
			}
			if fresh {
				if err := markDemoDir(dir); err != nil {
					return err
				}
			}
			if err := tree.Build(dir, time.Now()); err != nil {
				return fmt.Errorf("demo tree in %s: %w", dir, err)
			}
			if noTUI {
				fmt.Fprintln(cmd.OutOrStdout(), dir)
				return nil
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			dirs := map[string]string{
				"execution.checkpointing.dir":           "file://" + filepath.ToSlash(filepath.Join(abs, "checkpoints")),
				"execution.checkpointing.savepoint-dir": "file://" + filepath.ToSlash(filepath.Join(abs, "savepoints")),
			}
			setup := tuiSetup{config: dirs, submitConfig: dirs, start: abs, launch: launch}
			return runTUIWith(cmd, "jobs", nil, setup)
		},
	}
	cmd.Flags().StringVar(&fixtures, "fixtures", "../shared/fixtures/flink-metadata", "directory of the real Flink _metadata fixtures")
	cmd.Flags().BoolVar(&noTUI, "no-tui", false, "only build the tree")
	cmd.Flags().StringVar(&job, "job", "jobs/windowed-counts.yaml", "job spec to launch at start (\"\" launches none)")
	return cmd
}

// demoMarker is the file that marks a directory ckpt demo created (or
// found empty) as its own: the only kind of non-empty directory it writes
// into.
const demoMarker = ".ckpt-demo"

// demoTarget is the local directory DIR names if the demo may write its
// tree there: one that does not exist yet or is empty (fresh: it gets the
// marker), or one the demo marked before. Anything else — a remote URI, a
// file, a directory with someone else's files, such as a real snapshot
// tree — is refused, since the demo must not mix its fixtures into it.
func demoTarget(arg string) (dir string, fresh bool, err error) {
	loc, err := storage.Parse(arg)
	if err != nil {
		return "", false, fmt.Errorf("DIR %w", err)
	}
	if !loc.IsLocal() {
		return "", false, fmt.Errorf("DIR %s: ckpt demo builds its tree on the local disk only; give a local directory (ckpt browse %s browses what is there)", arg, arg)
	}
	dir = loc.LocalPath()
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dir, true, nil
	case err != nil:
		return "", false, err
	case !fi.IsDir():
		return "", false, fmt.Errorf("DIR %s is not a directory", dir)
	}
	if m, err := os.Lstat(filepath.Join(dir, demoMarker)); err == nil && m.Mode().IsRegular() {
		return dir, false, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false, err
	}
	if len(entries) == 0 {
		return dir, true, nil
	}
	var names []string
	for _, e := range entries {
		if len(names) == 3 {
			names = append(names, "…")
			break
		}
		names = append(names, e.Name())
	}
	hint := "give a new or empty directory"
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", tui.DemoJobID)); err == nil {
		// Earlier versions of the demo made such trees without the marker.
		hint = fmt.Sprintf("if it is a demo tree from an earlier ckpt, mark it as the demo's (touch %s) or keep what you need and remove it",
			filepath.Join(dir, demoMarker))
	}
	return "", false, fmt.Errorf("DIR %s holds files ckpt demo did not make (%s) and no %s marker: refusing to write the demo tree into it; %s",
		dir, strings.Join(names, ", "), demoMarker, hint)
}

// markDemoDir creates dir and its marker.
func markDemoDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, demoMarker),
		[]byte("Made by ckpt demo. It rewrites only its own fixture files here and deletes nothing.\n"), 0o644)
}
