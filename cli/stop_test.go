package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// flinkStopping answers as a Flink JobManager whose job fails while
// stopping, after its savepoint completed (StopWithSavepointStoppingException),
// and whose checkpoint timeout is 30 minutes.
func flinkStopping(t *testing.T, jobID, sp string) string {
	mux := http.NewServeMux()
	js := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /overview", func(w http.ResponseWriter, r *http.Request) {
		js(w, map[string]any{"flink-version": "2.3.0", "taskmanagers": 1})
	})
	mux.HandleFunc("GET /jobs/"+jobID+"/checkpoints/config", func(w http.ResponseWriter, r *http.Request) {
		js(w, map[string]any{"mode": "exactly_once", "interval": 10000, "timeout": 1800000, "min_pause": 0, "max_concurrent": 1,
			"externalization": map[string]any{"enabled": true, "delete_on_cancellation": false}})
	})
	mux.HandleFunc("POST /jobs/"+jobID+"/stop", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		js(w, map[string]any{"request-id": "c0ffee"})
	})
	mux.HandleFunc("GET /jobs/"+jobID+"/savepoints/c0ffee", func(w http.ResponseWriter, r *http.Request) {
		js(w, map[string]any{"status": map[string]any{"id": "COMPLETED"}, "operation": map[string]any{"failure-cause": map[string]any{
			"class": "org.apache.flink.runtime.scheduler.stopwithsavepoint.StopWithSavepointStoppingException",
			"stack-trace": "org.apache.flink.runtime.scheduler.stopwithsavepoint.StopWithSavepointStoppingException: A savepoint has been created at: " + sp +
				", but the corresponding job " + jobID + " failed during stopping. The savepoint is consistent, but might have uncommitted transactions. " +
				"If you want to commit the transaction please restart a job from this savepoint.\n\tat org.apache.flink.runtime.scheduler.stopwithsavepoint.StopWithSavepointTerminationHandlerImpl.terminateExceptionally(StopWithSavepointTerminationHandlerImpl.java:199)"}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// #17: a stop whose job fails after the savepoint completed prints the
// savepoint's path (it is valid) and still exits non-zero; #16: without
// --wait it waits up to the job's checkpoint timeout plus a minute.
func TestStopKeepsSavepointOfFailedStop(t *testing.T) {
	const id = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
	const sp = "hdfs://nn:8020/flink/savepoints/savepoint-3f2a1b-5e5e5e5e5e5e"
	url := flinkStopping(t, id, sp)
	code, out, errOut := runCkpt(t, "stop", "-m", url, id)
	if code == ExitOK {
		t.Fatalf("a failed stop exited 0:\n%s\n%s", out, errOut)
	}
	if !strings.Contains(out, "Savepoint completed, but the job failed while stopping. Path: "+sp+"\n") {
		t.Errorf("stdout does not give the savepoint:\n%s", out)
	}
	if !strings.Contains(errOut, "Waiting up to 31m0s for trigger c0ffee.") || !strings.Contains(errOut, "after its savepoint "+sp+" completed") {
		t.Errorf("stderr:\n%s", errOut)
	}
}
