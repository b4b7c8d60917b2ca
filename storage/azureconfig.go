package storage

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// AzureSettings is what ckpt needs to reach one Azure storage account,
// resolved the way Hadoop's ABFS and WASB connectors (which Flink's
// flink-azure-fs-hadoop plugin wraps) read their configuration: the -D
// values first, then the Flink configuration file, under Hadoop's keys.
// Without a key there, the Azure environment: AZURE_STORAGE_ACCOUNT with
// AZURE_STORAGE_KEY, then Azure's own credential chain (service principal
// or workload identity from AZURE_* variables, managed identity, az login).
type AzureSettings struct {
	// Account is the storage account name (the first label of the host).
	Account string
	// Host is the account host the URI names (<account>.dfs.core.windows.net).
	Host string
	// ServiceURL is the Blob service endpoint: https://<account>.blob.core.windows.net/,
	// or the fs.azure.abfs.endpoint override (an emulator) with the
	// account as its first path element, as Azurite serves it.
	ServiceURL string
	// Key is the shared account key (base64); KeyFrom says where from.
	Key, KeyFrom string
	// ClientID/ClientSecret/TenantID are an OAuth service principal from
	// fs.azure.account.oauth2.client.*; OAuthFrom says where from.
	ClientID, ClientSecret, TenantID, OAuthFrom string
	// MaxRetries bounds retries of throttled (429/503) and failed
	// requests, with exponential backoff between them.
	MaxRetries int
	// ConfFile is the Flink configuration file read, if any.
	ConfFile string
}

// DefaultAzureMaxRetries bounds retries when fs.azure.io.retry.max.retries
// is not set (Hadoop's own default, 30, would hide an outage for minutes).
const DefaultAzureMaxRetries = 4

// flinkLookup finds the first of keys in the -D values, then in the Flink
// configuration file; from names the key and its source.
type flinkLookup struct {
	conf, file map[string]string
	fileName   string
}

func newFlinkLookup(opts Options) (flinkLookup, error) {
	file, name, err := LoadFlinkConf(FlinkConfDir(opts.FlinkConfDir))
	if err != nil {
		return flinkLookup{}, fmt.Errorf("reading the Flink configuration: %w", err)
	}
	return flinkLookup{conf: opts.Conf, file: file, fileName: name}, nil
}

func (l flinkLookup) get(keys ...string) (value, from string) {
	for _, src := range []struct {
		name string
		m    map[string]string
	}{{"-D", l.conf}, {l.fileName, l.file}} {
		for _, k := range keys {
			if v, ok := src.m[k]; ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), k + " (" + src.name + ")"
			}
		}
	}
	return "", ""
}

func (l flinkLookup) boolean(def bool, keys ...string) (bool, error) {
	v, from := l.get(keys...)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s = %q: want true or false", from, v)
	}
	return b, nil
}

// ResolveAzureSettings reads the settings for the account host (as the
// URI names it: <account>.dfs.core.windows.net or .blob.core.windows.net).
func ResolveAzureSettings(opts Options, host string) (AzureSettings, error) {
	l, err := newFlinkLookup(opts)
	if err != nil {
		return AzureSettings{}, err
	}
	host = strings.ToLower(host)
	account, _, _ := strings.Cut(host, ".")
	s := AzureSettings{Account: account, Host: host, ConfFile: l.fileName, MaxRetries: DefaultAzureMaxRetries}
	// Hadoop keys an account's settings by its host; either service's
	// host names the same account.
	perAccount := func(base string) []string {
		return []string{base + "." + host, base + "." + account + ".dfs.core.windows.net", base + "." + account + ".blob.core.windows.net", base}
	}
	s.Key, s.KeyFrom = l.get(perAccount("fs.azure.account.key")...)
	if s.Key == "" && os.Getenv("AZURE_STORAGE_KEY") != "" && strings.EqualFold(os.Getenv("AZURE_STORAGE_ACCOUNT"), account) {
		s.Key, s.KeyFrom = os.Getenv("AZURE_STORAGE_KEY"), "AZURE_STORAGE_KEY (environment)"
	}
	if s.Key == "" {
		s.ClientID, s.OAuthFrom = l.get(perAccount("fs.azure.account.oauth2.client.id")...)
		s.ClientSecret, _ = l.get(perAccount("fs.azure.account.oauth2.client.secret")...)
		endpoint, endpointFrom := l.get(perAccount("fs.azure.account.oauth2.client.endpoint")...)
		if s.ClientID != "" {
			if s.ClientSecret == "" || endpoint == "" {
				return AzureSettings{}, fmt.Errorf("%s is set but not fs.azure.account.oauth2.client.secret and .client.endpoint", s.OAuthFrom)
			}
			// https://login.microsoftonline.com/<tenant>/oauth2/token
			u, err := url.Parse(endpoint)
			if err != nil || u.Host == "" {
				return AzureSettings{}, fmt.Errorf("%s = %q: want https://login.microsoftonline.com/<tenant>/oauth2/token", endpointFrom, endpoint)
			}
			s.TenantID, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		}
	}
	if v, from := l.get("fs.azure.io.retry.max.retries"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return AzureSettings{}, fmt.Errorf("%s = %q: want a number of retries", from, v)
		}
		s.MaxRetries = n
	}
	https, err := l.boolean(true, "fs.azure.always.use.https")
	if err != nil {
		return AzureSettings{}, err
	}
	proto := "https"
	if !https {
		proto = "http"
	}
	if ep, _ := l.get("fs.azure.abfs.endpoint"); ep != "" {
		ep = strings.TrimSuffix(ep, "/")
		if !strings.Contains(ep, "://") {
			ep = proto + "://" + ep
		}
		s.ServiceURL = ep + "/" + account + "/"
	} else {
		s.ServiceURL = proto + "://" + account + ".blob.core.windows.net/"
	}
	return s, nil
}
