package health

import (
	"fmt"
	"io"
	"strings"
)

// WritePrometheus writes the reports as Prometheus text exposition (for a
// node exporter's textfile collector or a scrape through a wrapper): one
// status gauge per job and check, and the measured values.
func WritePrometheus(w io.Writer, reports []Report) error {
	var b strings.Builder
	b.WriteString("# HELP ckpt_check_status Health of a job's check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n")
	b.WriteString("# TYPE ckpt_check_status gauge\n")
	for _, r := range reports {
		fmt.Fprintf(&b, "ckpt_check_status{%s,check=\"job\"} %d\n", labels(r), r.Status)
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "ckpt_check_status{%s,check=%q} %d\n", labels(r), f.Check, f.Status)
		}
	}
	metrics := []struct{ check, name, help string }{
		{"last_checkpoint", "ckpt_last_checkpoint_age_seconds", "Seconds since the newest completed checkpoint (or the job's start without one)."},
		{"failures", "ckpt_checkpoint_consecutive_failures", "Failed checkpoints since the last completed one."},
		{"duration", "ckpt_checkpoint_duration_timeout_ratio", "Median end-to-end duration of recent checkpoints over the checkpoint timeout."},
		{"growth", "ckpt_state_growth_bytes_per_hour", "Growth of the full state size per hour over ckpt's history of the job."},
		{"restarts", "ckpt_job_failures_in_window", "Failures in the job's exception history within the restart window."},
	}
	for _, m := range metrics {
		header := false
		for _, r := range reports {
			for _, f := range r.Findings {
				if f.Check != m.check || f.Status == Unknown {
					continue
				}
				if !header {
					fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", m.name, m.help, m.name)
					header = true
				}
				fmt.Fprintf(&b, "%s{%s} %s\n", m.name, labels(r), num(f.Value))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func labels(r Report) string {
	return fmt.Sprintf("job_id=%q,job_name=%q", r.JobID, escape(r.Name))
}

// escape keeps a label value on one line (%q escapes quotes and
// backslashes as Prometheus wants; newlines become \n).
func escape(s string) string { return strings.ReplaceAll(s, "\n", " ") }
