package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
)

func init() { register(newListCmd) }

func newListCmd() *cobra.Command {
	var running, scheduled, all, asJSON bool
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "list [-r|-s|-a] [--json]",
		Short: "List jobs",
		Long: `Lists the jobs of a Flink JobManager or ckpt serve in Flink's CLI format
(one line per job: start time : job ID : name (STATE), grouped into
running/restarting, scheduled and, with -a, terminated jobs). Without flags
it shows running and scheduled jobs, as flink list does. --json prints the
selected jobs as GET /jobs/overview does.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := tf.client()
			if err != nil {
				return err
			}
			jobs, err := c.Jobs(cmd.Context())
			if err != nil {
				return err
			}
			if !running && !scheduled && !all {
				running, scheduled = true, true
			}
			if asJSON {
				return printJobsJSON(cmd.OutOrStdout(), jobs, running, scheduled, all)
			}
			printJobs(cmd.OutOrStdout(), jobs, running, scheduled, all, time.Local)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&running, "running", "r", false, "running and restarting jobs")
	f.BoolVarP(&scheduled, "scheduled", "s", false, "scheduled jobs (CREATED, INITIALIZING)")
	f.BoolVarP(&all, "all", "a", false, "all jobs, terminated ones included")
	f.BoolVar(&asJSON, "json", false, "print JSON (GET /jobs/overview shape) instead of text")
	tf = addTargetFlags(cmd)
	return cmd
}

// jobGroup is which section of flink list a job belongs to.
func jobGroup(s cluster.JobStatus) string {
	switch {
	case s.Scheduled():
		return "scheduled"
	case s.Terminal():
		return "terminated"
	}
	return "running"
}

func selected(s cluster.JobStatus, running, scheduled, all bool) bool {
	switch jobGroup(s) {
	case "running":
		return running || all
	case "scheduled":
		return scheduled || all
	}
	return all
}

// sortJobs orders like Flink's CLI: by start time.
func sortJobs(jobs []cluster.JobSummary) {
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Start.Before(jobs[j].Start) })
}

// printJobs writes Flink's `list` output.
func printJobs(w io.Writer, jobs []cluster.JobSummary, running, scheduled, all bool, loc *time.Location) {
	groups := map[string][]cluster.JobSummary{}
	for _, j := range jobs {
		g := jobGroup(j.Status)
		groups[g] = append(groups[g], j)
	}
	const rule = "--------------------------------------------------------------"
	section := func(jobs []cluster.JobSummary, header string) {
		sortJobs(jobs)
		fmt.Fprintln(w, header)
		for _, j := range jobs {
			fmt.Fprintf(w, "%s : %s : %s (%s)\n", j.Start.In(loc).Format("02.01.2006 15:04:05"), j.ID, printable(j.Name), j.Status)
		}
		fmt.Fprintln(w, rule)
	}
	if running || all {
		if len(groups["running"]) == 0 {
			fmt.Fprintln(w, "No running jobs.")
		} else {
			section(groups["running"], "------------------ Running/Restarting Jobs -------------------")
		}
	}
	if scheduled || all {
		if len(groups["scheduled"]) == 0 {
			fmt.Fprintln(w, "No scheduled jobs.")
		} else {
			section(groups["scheduled"], "----------------------- Scheduled Jobs -----------------------")
		}
	}
	if all && len(groups["terminated"]) > 0 {
		section(groups["terminated"], "---------------------- Terminated Jobs -----------------------")
	}
}

func printJobsJSON(w io.Writer, jobs []cluster.JobSummary, running, scheduled, all bool) error {
	sortJobs(jobs)
	out := flinkrest.JobsOverviewDTO{Jobs: []flinkrest.JobOverviewDTO{}}
	for i := range jobs {
		if selected(jobs[i].Status, running, scheduled, all) {
			out.Jobs = append(out.Jobs, flinkrest.EncodeJobOverview(&jobs[i]))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
