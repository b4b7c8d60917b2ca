package cluster

import "testing"

// A stop's failure names the savepoint it still wrote only in its text
// (Flink's StopWithSavepointStoppingException); other failures name none.
func TestFailureSavepointLocation(t *testing.T) {
	for _, tc := range []struct {
		f    *Failure
		want string
	}{
		{nil, ""},
		{&Failure{Class: "java.util.concurrent.TimeoutException", StackTrace: "java.util.concurrent.TimeoutException: Checkpoint expired before completing."}, ""},
		{&Failure{StackTrace: "org.apache.flink.util.FlinkException: Stop failed\nCaused by: org.apache.flink.runtime.scheduler.stopwithsavepoint.StopWithSavepointStoppingException: " +
			"A savepoint has been created at: file:/sp/savepoint-0a1b2c-0123456789ab, but the corresponding job 0a1b2c3d4e5f60718293a4b5c6d7e8f9 failed during stopping. " +
			"The savepoint is consistent, but might have uncommitted transactions.\n\tat x.y(Z.java:1)"}, "file:/sp/savepoint-0a1b2c-0123456789ab"},
	} {
		if got := tc.f.SavepointLocation(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}
