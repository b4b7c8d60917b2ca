package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ckpt-dev/ckpt/peers"
)

// Flink on YARN, against a real MiniYARNCluster running a real Flink
// session, of Flink 2.x and of Flink 1.20 (peers/yarn; about 40-90 s to
// start each, once per test binary and version): the
// session is found through the ResourceManager's REST API and operated as
// any target — listed with -m yarn:APPID, a savepoint taken with Flink's
// -yid APPID — and, where the JobManager's own address is unreachable,
// read through the ResourceManager's web proxy (which forwards GET only).
func TestFlinkOnYARN(t *testing.T) {
	if testing.Short() {
		t.Skip("real YARN peer: not in -short")
	}
	for _, v := range peers.YARNFlinkVersions {
		t.Run("flink-"+v, func(t *testing.T) { testFlinkOnYARN(t, peers.YARN(t, v)) })
	}
}

func testFlinkOnYARN(t *testing.T, p *peers.YARNPeer) {
	t.Run("session runs the Flink asked for", func(t *testing.T) {
		resp, err := http.Get(strings.TrimSuffix(p.JobManager, "/") + "/config")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var cfg struct {
			Version string `json:"flink-version"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil || cfg.Version != p.Flink {
			t.Fatalf("JobManager /config: flink-version %q (%v), want %s", cfg.Version, err, p.Flink)
		}
	})
	t.Setenv("CKPT_CONFIG", filepath.Join(t.TempDir(), "none.yaml"))
	t.Setenv("CKPT_JOBMANAGER", "")
	t.Setenv("YARN_CONF_DIR", "")
	t.Setenv("HADOOP_CONF_DIR", p.ConfDir)

	t.Run("list -m yarn:APPID", func(t *testing.T) {
		code, out, errOut := runCkpt(t, "list", "-m", "yarn:"+p.AppID)
		if code != 0 || !strings.Contains(out, p.JobID) || !strings.Contains(out, "RUNNING") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("savepoint -yid APPID", func(t *testing.T) {
		dir := t.TempDir()
		code, out, errOut := runCkpt(t, "savepoint", p.JobID, "file://"+dir, "-yid", p.AppID)
		if code != 0 || !strings.Contains(out, "Savepoint completed. Path: ") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		assertSavepointIn(t, dir)
	})

	t.Run("unknown application", func(t *testing.T) {
		missing := p.AppID[:strings.LastIndex(p.AppID, "_")] + "_9999"
		code, out, errOut := runCkpt(t, "list", "-m", "yarn:"+missing)
		if code == 0 || !strings.Contains(errOut, missing) || !strings.Contains(errOut, "no such YARN application") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("through the RM proxy only", func(t *testing.T) {
		// A gateway in front of the real ResourceManager that reports the
		// ApplicationMaster at an address nobody listens on, as a client
		// outside the cluster's network sees it: only the RM's
		// /proxy/APPID/ path reaches the JobManager.
		rm, err := url.Parse("http://" + p.RM)
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := l.Addr().String()
		l.Close()
		var proxied atomic.Int32
		fwd := httputil.NewSingleHostReverseProxy(rm)
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/proxy/"+p.AppID) {
				proxied.Add(1)
				fwd.ServeHTTP(w, r)
				return
			}
			if r.URL.Path != "/ws/v1/cluster/apps/"+p.AppID {
				fwd.ServeHTTP(w, r)
				return
			}
			resp, err := http.Get(rm.String() + r.URL.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			var doc map[string]map[string]any
			b, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(b, &doc); err != nil || doc["app"] == nil {
				http.Error(w, fmt.Sprintf("RM answered %s: %s", resp.Status, b), http.StatusBadGateway)
				return
			}
			doc["app"]["amRPCAddress"] = dead
			doc["app"]["trackingUrl"] = "http://" + dead + "/"
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(doc)
		}))
		defer gw.Close()
		conf := t.TempDir()
		site := fmt.Sprintf("<configuration><property><name>yarn.resourcemanager.webapp.address</name><value>%s</value></property></configuration>",
			strings.TrimPrefix(gw.URL, "http://"))
		if err := os.WriteFile(filepath.Join(conf, "yarn-site.xml"), []byte(site), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("HADOOP_CONF_DIR", conf)

		code, out, errOut := runCkpt(t, "list", "-m", "yarn:"+p.AppID)
		if code != 0 || !strings.Contains(out, p.JobID) {
			t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
		}
		// YARN's web proxy forwards GET only: a savepoint (a POST) through
		// it fails, with the proxy's answer named, and nothing is taken.
		dir := t.TempDir()
		code, out, errOut = runCkpt(t, "savepoint", "-m", "yarn-cluster", "-yid", p.AppID, p.JobID, "file://"+dir)
		if code == 0 || !strings.Contains(errOut, "405") {
			t.Fatalf("savepoint through the RM proxy: exit %d\n%s%s", code, out, errOut)
		}
		if proxied.Load() < 2 {
			t.Fatalf("only %d requests went through the RM's proxy", proxied.Load())
		}
	})
}

func assertSavepointIn(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "savepoint-*", "_metadata"))
	if len(m) != 1 {
		ents, _ := os.ReadDir(dir)
		t.Fatalf("want one savepoint-*/_metadata in %s, have %v", dir, ents)
	}
}
