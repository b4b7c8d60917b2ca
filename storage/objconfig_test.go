package storage

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveAzureSettings(t *testing.T) {
	t.Setenv("FLINK_CONF_DIR", "")
	t.Setenv("AZURE_STORAGE_ACCOUNT", "")
	t.Setenv("AZURE_STORAGE_KEY", "")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("fs.azure.account.key.fileacct.blob.core.windows.net: FILEKEY\n"), 0o600)
	cases := []struct {
		name    string
		conf    map[string]string
		confDir string
		env     [2]string
		host    string
		check   func(s AzureSettings) bool
		err     string
	}{
		{name: "dfs key from -D", conf: map[string]string{"fs.azure.account.key.acct.dfs.core.windows.net": "K"}, host: "acct.dfs.core.windows.net",
			check: func(s AzureSettings) bool {
				return s.Key == "K" && s.KeyFrom == "fs.azure.account.key.acct.dfs.core.windows.net (-D)" && s.ServiceURL == "https://acct.blob.core.windows.net/" && s.Account == "acct"
			}},
		{name: "blob key serves the dfs host", confDir: dir, host: "fileacct.dfs.core.windows.net",
			check: func(s AzureSettings) bool {
				return s.Key == "FILEKEY" && strings.HasPrefix(s.KeyFrom, "fs.azure.account.key.fileacct.blob.core.windows.net ("+filepath.Join(dir, "config.yaml"))
			}},
		{name: "-D wins over the file", conf: map[string]string{"fs.azure.account.key.fileacct.dfs.core.windows.net": "D"}, confDir: dir, host: "fileacct.blob.core.windows.net",
			check: func(s AzureSettings) bool { return s.Key == "D" }},
		{name: "environment key for its account", env: [2]string{"acct", "ENVKEY"}, host: "acct.dfs.core.windows.net",
			check: func(s AzureSettings) bool { return s.Key == "ENVKEY" && s.KeyFrom == "AZURE_STORAGE_KEY (environment)" }},
		{name: "environment key of another account", env: [2]string{"other", "ENVKEY"}, host: "acct.dfs.core.windows.net",
			check: func(s AzureSettings) bool { return s.Key == "" }},
		{name: "emulator endpoint", conf: map[string]string{"fs.azure.abfs.endpoint": "127.0.0.1:10000", "fs.azure.always.use.https": "false"}, host: "dev.dfs.core.windows.net",
			check: func(s AzureSettings) bool { return s.ServiceURL == "http://127.0.0.1:10000/dev/" }},
		{name: "service principal", conf: map[string]string{"fs.azure.account.oauth2.client.id": "id", "fs.azure.account.oauth2.client.secret": "s",
			"fs.azure.account.oauth2.client.endpoint": "https://login.microsoftonline.com/TENANT/oauth2/token"}, host: "acct.dfs.core.windows.net",
			check: func(s AzureSettings) bool { return s.ClientID == "id" && s.TenantID == "TENANT" }},
		{name: "service principal without secret", conf: map[string]string{"fs.azure.account.oauth2.client.id": "id"}, host: "acct.dfs.core.windows.net", err: "client.secret"},
		{name: "bad retries", conf: map[string]string{"fs.azure.io.retry.max.retries": "many"}, host: "acct.dfs.core.windows.net", err: "fs.azure.io.retry.max.retries (-D)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AZURE_STORAGE_ACCOUNT", tc.env[0])
			t.Setenv("AZURE_STORAGE_KEY", tc.env[1])
			s, err := ResolveAzureSettings(Options{Conf: tc.conf, FlinkConfDir: tc.confDir}, tc.host)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(s) {
				t.Fatalf("settings %+v, %v", s, err)
			}
		})
	}
}

func TestResolveGCSSettings(t *testing.T) {
	t.Setenv("FLINK_CONF_DIR", "")
	cases := []struct {
		name  string
		conf  map[string]string
		check func(s GCSSettings) bool
		err   string
	}{
		{"defaults", nil, func(s GCSSettings) bool {
			return s.Endpoint == "" && !s.Anonymous && s.KeyFile == "" && s.ChunkSize == 8<<20 && s.MaxAttempts == DefaultGCSMaxAttempts
		}, ""},
		{"Flink's gs.* spelling", map[string]string{"gs.writer.chunk.size": "4mb", "gs.retry.max-attempt": "3", "gs.storage.root.url": "http://127.0.0.1:4443"},
			func(s GCSSettings) bool {
				return s.ChunkSize == 4<<20 && s.MaxAttempts == 3 && s.Endpoint == "http://127.0.0.1:4443/"
			}, ""},
		{"the connector's fs.gs.* spelling", map[string]string{"fs.gs.auth.service.account.json.keyfile": "/k.json", "fs.gs.auth.type": "SERVICE_ACCOUNT_JSON_KEYFILE"},
			func(s GCSSettings) bool {
				return s.KeyFile == "/k.json" && s.KeyFrom == "fs.gs.auth.service.account.json.keyfile (-D)"
			}, ""},
		{"anonymous", map[string]string{"fs.gs.auth.type": "UNAUTHENTICATED"}, func(s GCSSettings) bool { return s.Anonymous }, ""},
		{"chunk not a multiple of 256 KiB", map[string]string{"gs.writer.chunk.size": "1000"}, nil, "multiple of 256 KiB"},
		{"unknown auth type", map[string]string{"gs.auth.type": "MAGIC"}, nil, "gs.auth.type (-D)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ResolveGCSSettings(Options{Conf: tc.conf})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(s) {
				t.Fatalf("settings %+v, %v", s, err)
			}
		})
	}
}

// Describe names where credentials come from, never the secret.
func TestRouterDescribeObjectStores(t *testing.T) {
	t.Setenv("FLINK_CONF_DIR", "")
	sa := serviceAccountFile(t)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", sa)
	ctx := context.Background()
	r := NewRouter(Options{Conf: map[string]string{
		"fs.azure.account.key.acct.dfs.core.windows.net": "U0VDUkVUS0VZ",
	}})
	cases := map[string]string{
		"abfss://c@acct.dfs.core.windows.net/ck": "Azure Blob endpoint https://acct.blob.core.windows.net (account acct), credentials: shared key from fs.azure.account.key.acct.dfs.core.windows.net (-D)",
		"wasbs://c@acct.blob.core.windows.net/":  "Azure Blob endpoint https://acct.blob.core.windows.net (account acct), credentials: shared key from fs.azure.account.key.acct.dfs.core.windows.net (-D)",
		"gs://bucket/ck":                         "GCS endpoint https://storage.googleapis.com, credentials: application default credentials from GOOGLE_APPLICATION_CREDENTIALS (" + sa + ")",
	}
	for uri, want := range cases {
		got, err := r.Describe(ctx, uri)
		if err != nil || got != want {
			t.Errorf("Describe(%s) = %q, %v; want %q", uri, got, err, want)
		}
		if strings.Contains(got, "U0VDUkVUS0VZ") || strings.Contains(got, "PRIVATE KEY") {
			t.Errorf("Describe(%s) shows a secret", uri)
		}
	}
	// No Google credentials anywhere: the error says how to give some.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	_, err := NewRouter(Options{}).Describe(ctx, "gs://bucket/ck")
	if err == nil || !strings.Contains(err.Error(), "GOOGLE_APPLICATION_CREDENTIALS") || !strings.Contains(err.Error(), "UNAUTHENTICATED") {
		t.Errorf("Describe without Google credentials: %v", err)
	}
}

// serviceAccountFile writes a service-account key file with a fresh key,
// as Google issues them (never used to sign anything here).
func serviceAccountFile(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "ckpt-test", "private_key_id": "1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "ckpt@ckpt-test.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
	f := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
