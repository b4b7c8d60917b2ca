package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -yid / -m yarn:APPID / -m yarn-cluster -yid: the target is found through
// the ResourceManager of $HADOOP_CONF_DIR's yarn-site.xml (a stand-in RM
// and JobManager here; TestFlinkOnYARN has the real ones).
func TestYARNTargetFlags(t *testing.T) {
	const app = "application_1765152000000_0003"
	const job = "0123456789abcdef0123456789abcdef"
	jm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/config":
			fmt.Fprint(w, `{"flink-version":"2.3.0"}`)
		case "/jobs/overview":
			fmt.Fprintf(w, `{"jobs":[{"jid":%q,"name":"on-yarn","state":"RUNNING","start-time":1,"end-time":-1,"duration":5,"last-modification":1,"tasks":{}}]}`, job)
		default:
			http.NotFound(w, r)
		}
	}))
	defer jm.Close()
	state := "RUNNING"
	rm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws/v1/cluster/apps/"+app {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"RemoteException":{"exception":"NotFoundException","message":"java.lang.Exception: app with id: x not found"}}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"app": map[string]any{"id": app, "state": state, "name": "Flink session",
			"amRPCAddress": strings.TrimPrefix(jm.URL, "http://")}})
	}))
	defer rm.Close()
	conf := t.TempDir()
	os.WriteFile(filepath.Join(conf, "yarn-site.xml"), []byte(`<configuration><property><name>yarn.resourcemanager.webapp.address</name><value>`+
		strings.TrimPrefix(rm.URL, "http://")+`</value></property></configuration>`), 0o644)
	t.Setenv("HADOOP_CONF_DIR", conf)
	t.Setenv("YARN_CONF_DIR", "")
	t.Setenv("CKPT_CONFIG", filepath.Join(t.TempDir(), "none.yaml"))
	t.Setenv("CKPT_JOBMANAGER", "")

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"list", "-m", "yarn:" + app}, 0, job},
		{[]string{"list", "-yid", app}, 0, job},
		{[]string{"list", "-m", "yarn-cluster", "-yid", app}, 0, job},
		{[]string{"list", "--yarnapplicationId=" + app}, 0, job},
		{[]string{"list", "-m", "yarn-cluster"}, 2, "needs -yid"},
		{[]string{"list", "-m", "localhost:1", "-yid", app}, 2, "name two targets"},
		{[]string{"list", "-yid", "app_1"}, 2, "not valid"},
		{[]string{"list", "-yid", "application_1765152000000_0009"}, 1, "no such YARN application"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCkpt(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d (want %d), want %q in\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	// A context may name the application and its Hadoop configuration.
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("contexts:\n  onyarn:\n    jobmanager: yarn:"+app+"\n    hadoop-conf-dir: "+conf+"\n"), 0o644)
	t.Setenv("CKPT_CONFIG", cfg)
	t.Setenv("HADOOP_CONF_DIR", t.TempDir()) // the context's wins
	if code, out, errOut := runCkpt(t, "list", "--context", "onyarn"); code != 0 || !strings.Contains(out, job) {
		t.Fatalf("context: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("HADOOP_CONF_DIR", conf)

	state = "FINISHED"
	code, out, errOut := runCkpt(t, "list", "-yid", app)
	if code == 0 || !strings.Contains(errOut, app+` ("Flink session") is FINISHED, not RUNNING`) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}
