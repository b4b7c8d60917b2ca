package yarn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const appID = "application_1765152000000_0007"

// flinkREST is a stand-in JobManager: /config answers as Flink's does, and
// every request is counted.
func flinkREST(t *testing.T) (*httptest.Server, *[]string) {
	var seen []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path)
		if r.URL.Path == "/config" {
			fmt.Fprint(w, `{"refresh-interval":3000,"flink-version":"2.3.0","features":{}}`)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &seen
}

// rm is a stand-in ResourceManager web service: apps answers for appID
// (nil = unknown); /proxy/APPID/ forwards to proxyTo when set.
type rm struct {
	app     *App
	proxyTo string
	calls   int
}

func (m *rm) serve(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ws/v1/cluster/apps/"+appID || strings.HasPrefix(r.URL.Path, "/ws/v1/cluster/apps/"):
			m.calls++
			if m.app == nil || r.URL.Path != "/ws/v1/cluster/apps/"+m.app.ID {
				id := strings.TrimPrefix(r.URL.Path, "/ws/v1/cluster/apps/")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprintf(w, `{"RemoteException":{"exception":"NotFoundException","message":"java.lang.Exception: app with id: %s not found","javaClassName":"org.apache.hadoop.yarn.webapp.NotFoundException"}}`, id)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"app": m.app})
		case m.proxyTo != "" && strings.HasPrefix(r.URL.Path, "/proxy/"+appID):
			target, _ := url.Parse(m.proxyTo)
			p := httputil.NewSingleHostReverseProxy(target)
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/proxy/"+appID)
			p.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// deadAddr is a host:port where nothing listens.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

func TestResolveDirect(t *testing.T) {
	jm, seen := flinkREST(t)
	m := &rm{app: &App{ID: appID, State: "RUNNING", TrackingURL: "http://rm.invalid/proxy/" + appID + "/",
		AMRPCAddress: strings.TrimPrefix(jm.URL, "http://"), AMHostHTTPAddress: "nm.invalid:8042"}}
	s := m.serve(t)
	ep, err := (&Resolver{RMs: []string{s.URL}}).Resolve(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	if ep.URL != jm.URL || ep.ViaProxy {
		t.Fatalf("endpoint %+v, want %s directly", ep, jm.URL)
	}
	if len(*seen) != 1 || (*seen)[0] != "/config" {
		t.Fatalf("JobManager saw %v, want one probe of /config", *seen)
	}
}

func TestResolveProxyFallback(t *testing.T) {
	jm, _ := flinkREST(t)
	m := &rm{proxyTo: jm.URL}
	s := m.serve(t)
	dead := deadAddr(t)
	// The RM rewrote the tracking URL to its proxy; the registered address
	// is unreachable from here.
	m.app = &App{ID: appID, State: "RUNNING", TrackingURL: s.URL + "/proxy/" + appID + "/", AMRPCAddress: dead}
	ep, err := (&Resolver{RMs: []string{s.URL}}).Resolve(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	want := s.URL + "/proxy/" + appID
	if ep.URL != want || !ep.ViaProxy {
		t.Fatalf("endpoint %+v, want %s via the proxy", ep, want)
	}
	if len(ep.Tried) != 1 || !strings.Contains(ep.Tried[0], dead) {
		t.Fatalf("tried %v, want the dead direct address first", ep.Tried)
	}

	// Without a tracking URL at all the RM's proxy path is still tried.
	m.app = &App{ID: appID, State: "RUNNING", AMRPCAddress: dead}
	ep, err = (&Resolver{RMs: []string{s.URL}}).Resolve(context.Background(), appID)
	if err != nil || ep.URL != want {
		t.Fatalf("endpoint %+v, %v; want %s", ep, err, want)
	}
}

func TestResolveNotFlink(t *testing.T) {
	// The direct address answers, but not as Flink (e.g. a NodeManager UI),
	// and the proxy does not reach anything: a clear error, no endpoint.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>NodeManager</html>")
	}))
	defer other.Close()
	m := &rm{app: &App{ID: appID, State: "RUNNING", AMRPCAddress: strings.TrimPrefix(other.URL, "http://")}}
	s := m.serve(t)
	_, err := (&Resolver{RMs: []string{s.URL}}).Resolve(context.Background(), appID)
	if err == nil || !strings.Contains(err.Error(), "answers nowhere") || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveAppNotFound(t *testing.T) {
	m := &rm{}
	s := m.serve(t)
	_, err := (&Resolver{RMs: []string{s.URL}}).Resolve(context.Background(), appID)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), appID) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v, want ErrNotFound naming %s", err, appID)
	}
}

func TestResolveNotRunning(t *testing.T) {
	for _, state := range []string{"ACCEPTED", "FINISHED", "KILLED", "FAILED"} {
		t.Run(state, func(t *testing.T) {
			jm, seen := flinkREST(t)
			m := &rm{app: &App{ID: appID, Name: "Flink session cluster", State: state, FinalStatus: "KILLED",
				Diagnostics: "Application killed by user.\nmore", AMRPCAddress: strings.TrimPrefix(jm.URL, "http://")}}
			s := m.serve(t)
			_, err := (&Resolver{RMs: []string{s.URL}}).Resolve(context.Background(), appID)
			if !errors.Is(err, ErrNotRunning) {
				t.Fatalf("err = %v, want ErrNotRunning", err)
			}
			for _, want := range []string{appID, state, "not RUNNING", "Flink session cluster", "killed by user"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			if len(*seen) != 0 {
				t.Errorf("the JobManager of a %s application was called: %v", state, *seen)
			}
		})
	}
}

func TestResolveHA(t *testing.T) {
	jm, _ := flinkREST(t)
	active := &rm{app: &App{ID: appID, State: "RUNNING", AMRPCAddress: strings.TrimPrefix(jm.URL, "http://")}}
	as := active.serve(t)
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "This is standby RM. The redirect url is: ")
	}))
	defer standby.Close()
	dead := deadAddr(t)

	dir := t.TempDir()
	writeSite(t, dir, map[string]string{
		"yarn.resourcemanager.ha.enabled":           "true",
		"yarn.resourcemanager.ha.rm-ids":            "rm1, rm2,rm3",
		"yarn.resourcemanager.webapp.address.rm1":   dead,
		"yarn.resourcemanager.webapp.address.rm2":   strings.TrimPrefix(standby.URL, "http://"),
		"yarn.resourcemanager.webapp.address.rm3":   strings.TrimPrefix(as.URL, "http://"),
		"yarn.resourcemanager.webapp.address":       "ignored.invalid:1",
		"yarn.resourcemanager.address.rm1":          "ignored.invalid:8032",
		"yarn.resourcemanager.scheduler.address.rm": "x",
	})
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://" + dead, standby.URL, as.URL}
	if !reflect.DeepEqual(r.RMs, want) {
		t.Fatalf("RMs = %v, want %v", r.RMs, want)
	}
	ep, err := r.Resolve(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	if ep.RM != as.URL || ep.URL != jm.URL {
		t.Fatalf("endpoint %+v, want %s through the active RM %s", ep, jm.URL, as.URL)
	}
	if active.calls != 1 {
		t.Fatalf("active RM asked %d times", active.calls)
	}

	// Every RM down: one error naming each.
	r.RMs = []string{"http://" + dead, standby.URL}
	_, err = r.Resolve(context.Background(), appID)
	if err == nil || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), "standby") {
		t.Fatalf("err = %v", err)
	}
}

func TestResourceManagers(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf map[string]string
		want []string
		err  string
	}{
		{"webapp address", map[string]string{"yarn.resourcemanager.webapp.address": "rm.example.org:18088"}, []string{"http://rm.example.org:18088"}, ""},
		{"rpc address host, default web port", map[string]string{"yarn.resourcemanager.address": "rm.example.org:8032"}, []string{"http://rm.example.org:8088"}, ""},
		{"hostname", map[string]string{"yarn.resourcemanager.hostname": "rm.example.org"}, []string{"http://rm.example.org:8088"}, ""},
		{"wildcard", map[string]string{"yarn.resourcemanager.webapp.address": "0.0.0.0:8088"}, []string{"http://127.0.0.1:8088"}, ""},
		{"https only", map[string]string{"yarn.http.policy": "HTTPS_ONLY", "yarn.resourcemanager.webapp.https.address": "rm:9443",
			"yarn.resourcemanager.webapp.address": "rm:8088"}, []string{"https://rm:9443"}, ""},
		{"https only, hostname", map[string]string{"yarn.http.policy": "HTTPS_ONLY", "yarn.resourcemanager.hostname": "rm"}, []string{"https://rm:8090"}, ""},
		{"HA by hostname", map[string]string{"yarn.resourcemanager.ha.rm-ids": "a,b", "yarn.resourcemanager.hostname.a": "rm-a",
			"yarn.resourcemanager.webapp.address.b": "rm-b:1234"}, []string{"http://rm-a:8088", "http://rm-b:1234"}, ""},
		{"HA disabled", map[string]string{"yarn.resourcemanager.ha.enabled": "false", "yarn.resourcemanager.ha.rm-ids": "a,b",
			"yarn.resourcemanager.hostname": "rm"}, []string{"http://rm:8088"}, ""},
		{"HA id without address", map[string]string{"yarn.resourcemanager.ha.rm-ids": "a,b", "yarn.resourcemanager.hostname.a": "rm-a"}, nil,
			`lists "b" but`},
		{"nothing", map[string]string{"fs.defaultFS": "hdfs://nn:8020"}, nil, "names no ResourceManager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResourceManagers(tc.conf, "/etc/hadoop")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestConfDirAndLoad(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := ConfDir("/explicit", getenv); got != "/explicit" {
		t.Fatalf("ConfDir = %q", got)
	}
	env["YARN_CONF_DIR"] = "/yarn"
	if got := ConfDir("", getenv); got != "/yarn" {
		t.Fatalf("ConfDir = %q, want $YARN_CONF_DIR", got)
	}
	if _, err := LoadConf(""); err == nil || !strings.Contains(err.Error(), "HADOOP_CONF_DIR") {
		t.Fatalf("LoadConf(\"\") = %v", err)
	}
	empty := t.TempDir()
	if _, err := LoadConf(empty); err == nil || !strings.Contains(err.Error(), "no yarn-site.xml in "+empty) {
		t.Fatalf("LoadConf(empty) = %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "yarn-site.xml"), []byte("<configuration><property>"), 0o644)
	if _, err := LoadConf(bad); err == nil || !strings.Contains(err.Error(), "yarn-site.xml") {
		t.Fatalf("LoadConf(bad) = %v", err)
	}
}

func TestParseTargetAndAppID(t *testing.T) {
	if id, ok := ParseTarget("yarn:" + appID); !ok || id != appID {
		t.Fatalf("ParseTarget = %q, %v", id, ok)
	}
	if _, ok := ParseTarget("localhost:8081"); ok {
		t.Fatal("host:port taken for a YARN target")
	}
	for _, bad := range []string{"", "application_1", "app_1_2", "application_x_1", appID + " "} {
		if CheckAppID(bad) == nil {
			t.Errorf("CheckAppID(%q) accepted", bad)
		}
	}
	if err := (&Resolver{RMs: []string{"http://127.0.0.1:1"}}).probe(context.Background(), "http://%zz"); err == nil {
		t.Error("bad URL probed without error")
	}
}

func writeSite(t *testing.T, dir string, kv map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<configuration>\n")
	for k, v := range kv {
		fmt.Fprintf(&b, "  <property><name>%s</name><value>%s</value></property>\n", k, v)
	}
	b.WriteString("</configuration>\n")
	if err := os.WriteFile(filepath.Join(dir, "yarn-site.xml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
