package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newSavepointsCmd) }

// savepointsNow is the clock ages are measured with (fixed in tests).
var savepointsNow = time.Now

type savepointsOptions struct {
	json, bytes, dispose, yes bool
	keep, depth               int
	olderThan                 string
}

// savepointsJSON is `ckpt savepoints --json`; Plan is present with --keep
// or --older-than, Disposed with --dispose --yes.
type savepointsJSON struct {
	URI        string                 `json:"uri"`
	Savepoints []savepoints.Savepoint `json:"savepoints"`
	Bytes      int64                  `json:"bytes"`
	Plan       *savepoints.Plan       `json:"plan,omitempty"`
	Disposed   []disposedJSON         `json:"disposed,omitempty"`
	Warnings   []string               `json:"warnings"`
}

type disposedJSON struct {
	savepoints.Disposal
	Error string `json:"error,omitempty"`
}

func newSavepointsCmd() *cobra.Command {
	var o savepointsOptions
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "savepoints DIR",
		Short: "List savepoints under a directory tree; preview and apply retention",
		Long: `Finds every savepoint-<job6>-<random12> directory in DIR and below it (DIR may
be one savepoint; chk-N and shared/ directories are not searched) and lists them
newest first: the 6-hex prefix of the owning job's id (with the job's name when
-m/--jobmanager or CKPT_JOBMANAGER names a cluster that knows it), age (from
_metadata), size on storage, format (CANONICAL or NATIVE from the header; ? when
the header records none — Flink before 1.15, whose savepoints were all canonical) and
checkpoint id. A directory without _metadata is listed as incomplete.

--keep N and --older-than AGE (7d, 2w, 36h) preview a retention policy per
job: which savepoints would go, why, and how many bytes that frees. With both,
a savepoint goes only when it is outside its job's newest N and older than AGE.
Incomplete or unreadable directories are never removed by a policy. Nothing is
deleted unless --dispose --yes is given; each savepoint is then disposed
through the cluster (POST /savepoint-disposal) when one is named, else — or
when that fails — by deleting its directory, only if the savepoint is
self-contained. Exit code 1 when any disposal failed. -i/--tui opens the
same list in the terminal UI (p previews a policy there, D and X dispose).`,
		Example: `  ckpt savepoints hdfs://namenode:8020/flink/savepoints
  ckpt savepoints --keep 3 --older-than 14d /data/savepoints
  ckpt savepoints --keep 3 --dispose --yes -m jobmanager:8081 /data/savepoints`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSavepoints(cmd, args[0], o, tf)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print JSON for scripts (stable field names)")
	f.BoolVar(&o.bytes, "bytes", false, "exact sizes in bytes instead of KiB/MiB/GiB")
	f.IntVar(&o.keep, "keep", 0, "retention preview: keep the newest N savepoints of each job")
	f.StringVar(&o.olderThan, "older-than", "", "retention preview: remove savepoints older than AGE (7d, 2w, 36h)")
	f.BoolVar(&o.dispose, "dispose", false, "dispose the savepoints the policy removes (needs --yes)")
	f.BoolVar(&o.yes, "yes", false, "confirm --dispose")
	f.IntVar(&o.depth, "depth", 4, "how many directory levels below DIR to search")
	tf = addTargetFlags(cmd)
	AddTUIFlag(cmd)
	return cmd
}

func runSavepoints(cmd *cobra.Command, uri string, o savepointsOptions, tf *targetFlags) error {
	if TUIRequested(cmd) {
		return RunTUI(cmd, "savepoints", uri)
	}
	age, err := savepoints.ParseAge(o.olderThan)
	if err != nil {
		return usagef("--older-than: %v", err)
	}
	if o.keep < 0 {
		return usagef("--keep %d: want a positive count", o.keep)
	}
	policy := savepoints.Policy{KeepNewest: o.keep, OlderThan: age}
	planning := o.keep > 0 || age > 0
	if o.dispose && !planning {
		return usagef("--dispose needs a policy (--keep N and/or --older-than AGE) saying what to remove")
	}
	if o.dispose && !o.yes {
		return usagef("--dispose deletes savepoints: run without it to preview, then add --yes to confirm")
	}
	ctx := cmd.Context()
	fsys := openStorage(cmd)
	defer fsys.Close()
	out := savepointsJSON{URI: uri, Warnings: []string{}}
	sps, err := savepoints.Find(ctx, fsys, uri, savepoints.Options{MaxDepth: o.depth})
	if err != nil {
		return err
	}
	// A cluster only when the user named one: the default localhost:8081
	// may be nobody, and listing must not wait on it.
	var c cluster.Cluster
	if cmd.Flags().Changed("jobmanager") || os.Getenv(JobManagerEnv) != "" {
		rc, err := tf.client()
		if err != nil {
			return err
		}
		c = rc
		if jobs, err := c.Jobs(ctx); err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("job names unknown: %s: %v", tf.target(), err))
		} else {
			var js []savepoints.Job
			for _, j := range jobs {
				js = append(js, savepoints.Job{ID: j.ID, Name: j.Name})
			}
			savepoints.MatchJobs(sps, js)
		}
	}
	out.Savepoints = sps
	if out.Savepoints == nil {
		out.Savepoints = []savepoints.Savepoint{}
	}
	for _, s := range sps {
		out.Bytes += s.Bytes
	}
	now := savepointsNow()
	if planning {
		p := savepoints.Preview(sps, policy, now)
		out.Plan = &p
	}
	failed := 0
	if o.dispose {
		for _, d := range out.Plan.Decisions {
			if !d.Remove {
				continue
			}
			res, err := disposeOne(ctx, fsys, c, d.URI)
			dj := disposedJSON{Disposal: res}
			if err != nil {
				dj.Error = err.Error()
				failed++
			}
			out.Disposed = append(out.Disposed, dj)
		}
	}
	w := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printSavepoints(w, out, now, o)
	}
	if failed > 0 {
		return WithExitCode(1, fmt.Errorf("%d of %d disposals failed (the savepoints are still there)", failed, len(out.Disposed)))
	}
	return nil
}

// disposeOne gives each disposal its own deadline, so one hung deletion
// does not eat the others' time.
func disposeOne(ctx context.Context, fsys storage.FS, c cluster.Cluster, uri string) (savepoints.Disposal, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	return savepoints.Dispose(ctx, fsys, cluster.SavepointDisposal(c), uri)
}

func printSavepoints(w io.Writer, out savepointsJSON, now time.Time, o savepointsOptions) {
	for _, warn := range out.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	if len(out.Savepoints) == 0 {
		fmt.Fprintf(w, "no savepoint-… directories in %s\n", out.URI)
		return
	}
	fmt.Fprintf(w, "savepoints under %s, newest first\n", out.URI)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "SAVEPOINT\tJOB\tAGE\tSIZE\tFORMAT\tCHK"
	if out.Plan != nil {
		head += "\tPLAN"
	}
	fmt.Fprintln(tw, head)
	rows := out.Savepoints
	for i, s := range rows {
		format, chk := s.Format, fmt.Sprint(s.CheckpointID)
		switch {
		case !s.Complete:
			format, chk = "INCOMPLETE", "-"
		case s.Error != "":
			format, chk = "UNREADABLE", "-"
		case s.Kind != "savepoint":
			format = strings.ToUpper(s.Kind) + "!"
		case format == "":
			format = "?"
		}
		// Relative to DIR: the tree's shape without repeating its root.
		rel := strings.TrimPrefix(strings.TrimPrefix(s.URI, strings.TrimRight(out.URI, "/")), "/")
		if rel == "" {
			rel = s.URI
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", rel, s.Owner(), savepoints.FormatAge(now.Sub(s.ModTime)), sizeIEC(s.Bytes, o.bytes), format, chk)
		if out.Plan != nil {
			d := out.Plan.Decisions[i]
			act := "keep"
			if d.Remove {
				act = "REMOVE"
			}
			line += "\t" + act + ": " + d.Reason
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d savepoints, %s\n", len(rows), sizeIEC(out.Bytes, o.bytes))
	for _, s := range rows {
		if s.Error != "" {
			fmt.Fprintf(w, "  %s: %s\n", s.Name, s.Error)
		}
	}
	if p := out.Plan; p != nil {
		fmt.Fprintf(w, "policy: %s\n", p.Policy)
		fmt.Fprintf(w, "would remove %d savepoints (%s), keep %d (%s)", p.Remove, sizeIEC(p.RemoveBytes, o.bytes), p.Keep, sizeIEC(p.KeepBytes, o.bytes))
		if p.NotEligible > 0 {
			fmt.Fprintf(w, "; %d incomplete, unreadable or not savepoints are never removed", p.NotEligible)
		}
		fmt.Fprintln(w)
		if out.Disposed == nil && p.Remove > 0 {
			fmt.Fprintln(w, "nothing deleted: add --dispose --yes to dispose them")
		}
	}
	for _, d := range out.Disposed {
		switch {
		case d.Error != "":
			fmt.Fprintf(w, "FAILED  %s: %s\n", d.URI, d.Error)
		case d.ClusterError != "":
			fmt.Fprintf(w, "disposed %s (deleted from storage; the cluster's disposal failed: %s)\n", d.URI, d.ClusterError)
		default:
			fmt.Fprintf(w, "disposed %s (via %s)\n", d.URI, d.Via)
		}
		printLeft(w, d.Left)
	}
}

// printLeft names what a disposal left behind, and why (files ckpt did not
// write there keep their directory too).
func printLeft(w io.Writer, left []snapshot.Leftover) {
	for _, l := range left {
		fmt.Fprintf(w, "  left %s: %s\n", l.URI, l.Why)
	}
}
