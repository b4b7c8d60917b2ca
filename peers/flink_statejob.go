package peers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"time"
)

// StateJobEntryClass is the harness's job that writes chosen state
// (peers/flink/src/main/java/dev/ckpt/peer/StateJob.java): the state reader's
// peer test compares what ckpt reads with what it wrote.
const StateJobEntryClass = "dev.ckpt.peer.StateJob"

// StateJobSpec is what StateJob replays. Input is a file of records, one per
// line, tab-separated: long key, string key, value, string, double, boolean,
// broadcast key ("-" for none). Done is the file the job writes once every
// record went through every operator. OpList and OpUnion are the operator
// list and union state elements (each subtask appends "-<index>").
type StateJobSpec struct {
	Input   string
	Done    string
	OpList  []string
	OpUnion []string
	// Restore resumes the job from this snapshot (savepoint or chk-N) instead
	// of running the input: the job then waits, its state as restored.
	Restore string
}

// SubmitStateJob runs StateJob with job's settings (parallelism, max
// parallelism, backend, checkpointing, directories) through the REST API's
// jar upload and run, waits until it runs, then until its done file exists
// (with Restore: until every task runs).
func (p *FlinkPeer) SubmitStateJob(job FlinkJob, s StateJobSpec) (*FlinkRun, error) {
	spec, err := p.jobSpec(job, nil)
	if err != nil {
		return nil, err
	}
	spec["input"], spec["done"] = s.Input, s.Done
	spec["opList"], spec["opUnion"] = s.OpList, s.OpUnion
	return p.runJarJob(job, StateJobEntryClass, spec, s.Restore, s.Done, 120*time.Second)
}

// runJarJob runs entryClass of JobJar with --job spec (POST /jars/upload,
// /jars/:id/run; restore: from that snapshot), waits until it runs, then
// until done exists (with restore: until every task runs), within timeout.
func (p *FlinkPeer) runJarJob(job FlinkJob, entryClass string, spec map[string]any, restore, done string, timeout time.Duration) (*FlinkRun, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	jarID, err := p.uploadJar()
	if err != nil {
		return nil, err
	}
	req := map[string]any{"entryClass": entryClass, "programArgsList": []string{"--job", string(b)}}
	if restore != "" {
		req["savepointPath"] = URI(restore)
	}
	var out struct {
		JobID string `json:"jobid"`
	}
	if err := p.rest(http.MethodPost, "/jars/"+jarID+"/run", req, &out); err != nil {
		return nil, err
	}
	run := p.Run(out.JobID, job)
	deadline := time.Now().Add(timeout)
	for {
		if restore == "" {
			if _, err := os.Stat(done); err == nil {
				return run, nil
			}
		} else if p.allTasksRunning(out.JobID) {
			return run, nil
		}
		st, err := run.State()
		if err == nil && st != "RUNNING" && st != "CREATED" && st != "INITIALIZING" {
			return nil, fmt.Errorf("job %s (%s) is %s before it wrote its state (logs: %s)", out.JobID, entryClass, st, p.dir)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("job %s (%s): not done (file %s, or all tasks running after a restore) within %v (logs: %s)", out.JobID, entryClass, done, timeout, p.dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allTasksRunning reports whether every vertex of the job is RUNNING.
func (p *FlinkPeer) allTasksRunning(jobID string) bool {
	var j struct {
		State    string `json:"state"`
		Vertices []struct {
			Status string `json:"status"`
		} `json:"vertices"`
	}
	if err := p.rest(http.MethodGet, "/jobs/"+jobID, nil, &j); err != nil || j.State != "RUNNING" || len(j.Vertices) == 0 {
		return false
	}
	for _, v := range j.Vertices {
		if v.Status != "RUNNING" {
			return false
		}
	}
	return true
}

// uploadJar uploads JobJar (POST /jars/upload) and returns its jar id.
func (p *FlinkPeer) uploadJar() (string, error) {
	jar, err := os.ReadFile(p.JobJar())
	if err != nil {
		return "", err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="jarfile"; filename="ckpt-flink-peer.jar"`)
	h.Set("Content-Type", "application/x-java-archive")
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", err
	}
	if _, err := part.Write(jar); err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	resp, err := p.http.Post(p.restURL+"/jars/upload", mw.FormDataContentType(), &body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var up struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&up); err != nil || up.Status != "success" {
		return "", fmt.Errorf("POST /jars/upload: HTTP %d %+v %v", resp.StatusCode, up, err)
	}
	return filepath.Base(up.Filename), nil
}
