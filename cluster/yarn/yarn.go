// Package yarn finds the REST endpoint of a Flink session running on YARN,
// as Flink's CLI does for `-yid APPID`: it asks the ResourceManager's REST
// API (GET /ws/v1/cluster/apps/APPID) for the application, which must be
// RUNNING, and turns what YARN knows of its ApplicationMaster — Flink's
// JobManager — into a base URL for Flink's REST API.
//
// Flink's YARN entrypoint registers its ApplicationMaster with the host and
// REST port of its web interface (amRPCAddress in the RM's answer) and with
// that web interface as the tracking URL, which the RM rewrites to its web
// proxy (http://RM/proxy/APPID/). The direct address is tried first; where
// only the RM is reachable (the JobManager's host is behind a firewall, or
// a gateway machine), the proxy is used: a path prefix the REST client
// keeps in front of every request.
//
// The ResourceManager's address comes from yarn-site.xml in the Hadoop
// configuration directory ($YARN_CONF_DIR, $HADOOP_CONF_DIR,
// $HADOOP_HOME/etc/hadoop): yarn.resourcemanager.webapp.address (or
// .webapp.https.address under yarn.http.policy=HTTPS_ONLY), else the host
// of yarn.resourcemanager.address (or .hostname) with the web port 8088;
// with HA (yarn.resourcemanager.ha.enabled), every RM of
// yarn.resourcemanager.ha.rm-ids, by their .webapp.address.ID keys, tried
// in turn (a standby RM redirects to the active one, or is skipped).
package yarn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/storage"
)

// Scheme is the prefix of a -m target naming a YARN application:
// yarn:application_1700000000000_0001.
const Scheme = "yarn:"

// Default web ports of the ResourceManager (Hadoop's YarnConfiguration).
const (
	DefaultWebPort      = "8088"
	DefaultHTTPSWebPort = "8090"
)

var appIDPattern = regexp.MustCompile(`^application_[0-9]+_[0-9]+$`)

// ParseTarget reports whether target names a YARN application
// ("yarn:APPID") and returns the application ID.
func ParseTarget(target string) (appID string, ok bool) {
	if !strings.HasPrefix(target, Scheme) {
		return "", false
	}
	return strings.TrimPrefix(target, Scheme), true
}

// CheckAppID checks an application ID as YARN spells it:
// application_<cluster timestamp>_<sequence number>.
func CheckAppID(id string) error {
	if !appIDPattern.MatchString(id) {
		return fmt.Errorf("YARN application ID %q is not valid: want application_<cluster timestamp>_<number>, as `yarn application -list` prints it", id)
	}
	return nil
}

// ConfDir is the directory yarn-site.xml is read from: dir if set, else
// $YARN_CONF_DIR, else the Hadoop configuration directory
// (storage.HadoopConfDir: $HADOOP_CONF_DIR, $HADOOP_HOME/etc/hadoop).
func ConfDir(dir string, getenv func(string) string) string {
	if dir != "" {
		return dir
	}
	if d := getenv("YARN_CONF_DIR"); d != "" {
		return d
	}
	return storage.HadoopConfDir("")
}

// LoadConf reads core-site.xml and yarn-site.xml from dir (yarn-site
// wins). A directory without them is an error: the ResourceManager cannot
// be found.
func LoadConf(dir string) (map[string]string, error) {
	if dir == "" {
		return nil, errors.New("no Hadoop configuration to find the YARN ResourceManager in: set HADOOP_CONF_DIR (or YARN_CONF_DIR, HADOOP_HOME) to the directory with yarn-site.xml, or a context's hadoop-conf-dir")
	}
	conf, err := storage.LoadHadoopSite(dir, "core-site.xml", "yarn-site.xml")
	if err != nil {
		return nil, fmt.Errorf("reading the YARN configuration in %s: %w", dir, err)
	}
	if conf == nil {
		return nil, fmt.Errorf("no yarn-site.xml in %s: cannot find the YARN ResourceManager", dir)
	}
	return conf, nil
}

// ResourceManagers are the base URLs (http(s)://host:port) of the
// ResourceManagers' web services named by a YARN configuration, in the
// order to try them. dir only names the configuration in errors.
func ResourceManagers(conf map[string]string, dir string) ([]string, error) {
	https := strings.EqualFold(conf["yarn.http.policy"], "HTTPS_ONLY")
	scheme, webKey, port := "http://", "yarn.resourcemanager.webapp.address", DefaultWebPort
	if https {
		scheme, webKey, port = "https://", "yarn.resourcemanager.webapp.https.address", DefaultHTTPSWebPort
	}
	one := func(suffix string) (string, error) {
		if a := conf[webKey+suffix]; a != "" {
			return hostPort(a, port, webKey+suffix, dir)
		}
		// The RPC address's host with the default web port; failing that
		// the RM's host name.
		for _, k := range []string{"yarn.resourcemanager.address" + suffix, "yarn.resourcemanager.hostname" + suffix} {
			if a := conf[k]; a != "" {
				host := a
				if h, _, err := net.SplitHostPort(a); err == nil {
					host = h
				}
				return hostPort(host, port, k, dir)
			}
		}
		return "", nil
	}
	var out []string
	if ids := conf["yarn.resourcemanager.ha.rm-ids"]; ids != "" && !strings.EqualFold(conf["yarn.resourcemanager.ha.enabled"], "false") {
		for _, id := range strings.Split(ids, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			a, err := one("." + id)
			if err != nil {
				return nil, err
			}
			if a == "" {
				return nil, fmt.Errorf("yarn.resourcemanager.ha.rm-ids lists %q but %s has neither %s.%s nor yarn.resourcemanager.hostname.%s", id, siteXML(dir), webKey, id, id)
			}
			out = append(out, scheme+a)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("yarn.resourcemanager.ha.rm-ids in %s lists no ResourceManager", siteXML(dir))
		}
		return out, nil
	}
	a, err := one("")
	if err != nil {
		return nil, err
	}
	if a == "" {
		return nil, fmt.Errorf("%s names no ResourceManager: set %s (or yarn.resourcemanager.address / .hostname)", siteXML(dir), webKey)
	}
	return []string{scheme + a}, nil
}

func siteXML(dir string) string {
	if dir == "" {
		return "yarn-site.xml"
	}
	return filepath.Join(dir, "yarn-site.xml")
}

// hostPort completes an address with the default port; 0.0.0.0 (Hadoop's
// "every interface") is reached on this machine.
func hostPort(a, defPort, key, dir string) (string, error) {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = strings.Trim(a, "[]"), defPort
	}
	if host == "" {
		return "", fmt.Errorf("%s = %q in %s has no host", key, a, siteXML(dir))
	}
	if host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// App is what the ResourceManager says of an application (the fields of
// /ws/v1/cluster/apps/APPID this package reads).
type App struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	ApplicationType   string `json:"applicationType"`
	State             string `json:"state"`
	FinalStatus       string `json:"finalStatus"`
	Diagnostics       string `json:"diagnostics"`
	TrackingURL       string `json:"trackingUrl"`
	AMHostHTTPAddress string `json:"amHostHttpAddress"`
	AMRPCAddress      string `json:"amRPCAddress"`
}

// Endpoint is a resolved Flink REST endpoint.
type Endpoint struct {
	// URL is the base URL of Flink's REST API: http://host:port, or the
	// RM's proxy http://rm:port/proxy/APPID.
	URL string
	// ViaProxy says URL goes through the ResourceManager's web proxy.
	ViaProxy bool
	// RM is the ResourceManager that answered.
	RM  string
	App App
	// Tried lists the addresses that did not answer as Flink's REST API
	// before URL did, with why.
	Tried []string
}

// Resolver finds Flink's REST endpoint of YARN applications.
type Resolver struct {
	// RMs are the ResourceManagers' web service base URLs, tried in order.
	RMs []string
	// Client makes the calls (nil: one with Timeout).
	Client *http.Client
	// Timeout bounds each call (0: 5 s).
	Timeout time.Duration
}

// New is a Resolver for the ResourceManagers of the YARN configuration in
// confDir ("" = the environment's, see ConfDir).
func New(confDir string) (*Resolver, error) {
	dir := ConfDir(confDir, os.Getenv)
	conf, err := LoadConf(dir)
	if err != nil {
		return nil, err
	}
	rms, err := ResourceManagers(conf, dir)
	if err != nil {
		return nil, err
	}
	return &Resolver{RMs: rms}, nil
}

func (r *Resolver) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	t := r.Timeout
	if t <= 0 {
		t = 5 * time.Second
	}
	return &http.Client{Timeout: t}
}

// ErrNotFound is returned (wrapped) when no ResourceManager knows the
// application.
var ErrNotFound = errors.New("no such YARN application")

// ErrNotRunning is returned (wrapped) when the application is not RUNNING.
var ErrNotRunning = errors.New("YARN application not running")

// App asks the ResourceManagers for appID, in turn, until one answers.
func (r *Resolver) App(ctx context.Context, appID string) (App, string, error) {
	if err := CheckAppID(appID); err != nil {
		return App{}, "", err
	}
	if len(r.RMs) == 0 {
		return App{}, "", errors.New("no YARN ResourceManager configured")
	}
	var errs []string
	for _, rm := range r.RMs {
		app, err := r.appFrom(ctx, rm, appID)
		if err == nil || errors.Is(err, ErrNotFound) {
			return app, rm, err
		}
		if ctx.Err() != nil {
			return App{}, rm, ctx.Err()
		}
		errs = append(errs, err.Error())
	}
	return App{}, "", fmt.Errorf("no YARN ResourceManager answered for %s: %s", appID, strings.Join(errs, "; "))
}

// standbyMarker is what a standby RM's web service answers (Hadoop's
// RMWebAppFilter) when it does not redirect.
const standbyMarker = "standby"

func (r *Resolver) appFrom(ctx context.Context, rm, appID string) (App, error) {
	u := strings.TrimRight(rm, "/") + "/ws/v1/cluster/apps/" + appID
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return App{}, fmt.Errorf("ResourceManager %s: %v", rm, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client().Do(req)
	if err != nil {
		return App{}, fmt.Errorf("ResourceManager %s: %v", rm, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return App{}, fmt.Errorf("ResourceManager %s: reading %s: %v", rm, u, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		msg := remoteMessage(body)
		if msg == "" {
			msg = "404 Not Found"
		}
		return App{}, fmt.Errorf("%w: the ResourceManager %s does not know %s (%s)", ErrNotFound, rm, appID, msg)
	}
	if resp.StatusCode != http.StatusOK {
		msg := remoteMessage(body)
		if msg == "" {
			msg = strings.TrimSpace(string(body))
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
		}
		return App{}, fmt.Errorf("ResourceManager %s: GET %s: %s: %s", rm, u, resp.Status, msg)
	}
	var doc struct {
		App *App `json:"app"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.App == nil {
		if strings.Contains(strings.ToLower(string(body)), standbyMarker) {
			return App{}, fmt.Errorf("ResourceManager %s is a standby", rm)
		}
		return App{}, fmt.Errorf("ResourceManager %s: GET %s: not the RM's application JSON", rm, u)
	}
	return *doc.App, nil
}

// remoteMessage is the message of YARN's {"RemoteException": {...}} error.
func remoteMessage(body []byte) string {
	var e struct {
		RemoteException struct {
			Exception string `json:"exception"`
			Message   string `json:"message"`
		} `json:"RemoteException"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	m := strings.TrimPrefix(e.RemoteException.Message, "java.lang.Exception: ")
	if m == "" {
		return e.RemoteException.Exception
	}
	return m
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Resolve finds the Flink REST endpoint of application appID: it must be
// RUNNING; the JobManager's own address is tried first, then the RM's
// proxy. Each candidate must answer GET /config as Flink does (with
// "flink-version"), so an address that reaches something else — the
// NodeManager's UI, a proxy's error page — is not taken.
func (r *Resolver) Resolve(ctx context.Context, appID string) (Endpoint, error) {
	app, rm, err := r.App(ctx, appID)
	if err != nil {
		return Endpoint{}, err
	}
	if app.State != "RUNNING" {
		what := fmt.Sprintf("YARN application %s", appID)
		if app.Name != "" {
			what += fmt.Sprintf(" (%q)", app.Name)
		}
		msg := fmt.Sprintf("%s is %s, not RUNNING", what, app.State)
		if app.FinalStatus != "" && app.FinalStatus != "UNDEFINED" {
			msg += " (final status " + app.FinalStatus + ")"
		}
		if d := firstLine(app.Diagnostics); d != "" {
			msg += ": " + d
		}
		return Endpoint{App: app, RM: rm}, fmt.Errorf("%w: %s", ErrNotRunning, msg)
	}
	ep := Endpoint{App: app, RM: rm}
	for _, c := range Candidates(app, rm) {
		if err := r.probe(ctx, c.URL); err != nil {
			ep.Tried = append(ep.Tried, fmt.Sprintf("%s: %v", c.URL, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		ep.URL, ep.ViaProxy = c.URL, c.ViaProxy
		return ep, nil
	}
	return ep, fmt.Errorf("YARN application %s is RUNNING but its Flink REST API answers nowhere: %s", appID, strings.Join(ep.Tried, "; "))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Candidate is one base URL that may reach the application's REST API.
type Candidate struct {
	URL      string
	ViaProxy bool
}

// Candidates are the base URLs to try for app, best first: the JobManager
// itself (the tracking URL when YARN did not proxy it; the host and port
// the ApplicationMaster registered, which Flink sets to its REST
// endpoint), then the ResourceManager's web proxy.
func Candidates(app App, rm string) []Candidate {
	var out []Candidate
	seen := map[string]bool{}
	add := func(u string, proxy bool) {
		u = strings.TrimRight(u, "/")
		if u == "" || seen[u] {
			return
		}
		seen[u] = true
		out = append(out, Candidate{URL: u, ViaProxy: proxy})
	}
	tracking := withScheme(app.TrackingURL)
	proxied := tracking != "" && strings.Contains(tracking, "/proxy/"+app.ID)
	if tracking != "" && !proxied {
		add(tracking, false)
	}
	if a := app.AMRPCAddress; a != "" {
		if host, port, err := net.SplitHostPort(a); err == nil && host != "" && host != "N/A" && port != "" && port != "-1" && port != "0" {
			add("http://"+net.JoinHostPort(host, port), false)
		}
	}
	if proxied {
		add(tracking, true)
	}
	add(strings.TrimRight(rm, "/")+"/proxy/"+app.ID, true)
	return out
}

// withScheme: YARN reports tracking URLs with or without http://.
func withScheme(u string) string {
	u = strings.TrimSpace(u)
	if u == "" || u == "N/A" {
		return ""
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	return u
}

// probe checks that base answers as Flink's REST API.
func (r *Resolver) probe(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/config", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client().Do(req)
	if err != nil {
		return unwrapURLError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /config: %s", resp.Status)
	}
	var cfg map[string]any
	if json.Unmarshal(body, &cfg) != nil {
		return errors.New("GET /config: not JSON (not Flink's REST API)")
	}
	if _, ok := cfg["flink-version"]; !ok {
		return errors.New("GET /config: no flink-version (not Flink's REST API)")
	}
	return nil
}
