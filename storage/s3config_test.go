package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveS3Settings(t *testing.T) {
	t.Setenv("FLINK_CONF_DIR", "")
	cases := []struct {
		name    string
		conf    map[string]string
		file    string // config.yaml in the Flink conf dir
		oldFile string // flink-conf.yaml
		want    S3Settings
		wantErr string
	}{
		{name: "nothing set", want: S3Settings{MaxAttempts: DefaultS3MaxAttempts}},
		{name: "Flink keys from -D",
			conf: map[string]string{"s3.endpoint": "http://minio:9000", "s3.path.style.access": "true", "s3.access-key": "AK", "s3.secret-key": "SK"},
			want: S3Settings{Endpoint: "http://minio:9000", PathStyle: true, AccessKey: "AK", SecretKey: "SK", KeysFrom: "s3.access-key (-D)", MaxAttempts: DefaultS3MaxAttempts}},
		{name: "Hadoop S3A keys",
			conf: map[string]string{"fs.s3a.endpoint": "minio:9000", "fs.s3a.connection.ssl.enabled": "false", "fs.s3a.access.key": "AK", "fs.s3a.secret.key": "SK",
				"fs.s3a.path.style.access": "true", "fs.s3a.endpoint.region": "eu-west-1", "fs.s3a.attempts.maximum": "9", "fs.s3a.session.token": "TOK"},
			want: S3Settings{Endpoint: "http://minio:9000", Region: "eu-west-1", PathStyle: true, AccessKey: "AK", SecretKey: "SK", SessionToken: "TOK",
				KeysFrom: "fs.s3a.access.key (-D)", MaxAttempts: 9}},
		{name: "a bare endpoint is https",
			conf: map[string]string{"s3.endpoint": "s3.example.com"},
			want: S3Settings{Endpoint: "https://s3.example.com", MaxAttempts: DefaultS3MaxAttempts}},
		{name: "Flink's name wins over Hadoop's",
			conf: map[string]string{"s3.endpoint": "http://a", "fs.s3a.endpoint": "http://b"},
			want: S3Settings{Endpoint: "http://a", MaxAttempts: DefaultS3MaxAttempts}},
		{name: "nested config.yaml",
			file: "s3:\n  endpoint: http://from-file:9000\n  path.style.access: true\n  access-key: FAK\n  secret-key: FSK\n",
			want: S3Settings{Endpoint: "http://from-file:9000", PathStyle: true, AccessKey: "FAK", SecretKey: "FSK", KeysFrom: "s3.access-key (CONF/config.yaml)", MaxAttempts: DefaultS3MaxAttempts}},
		{name: "-D wins over the file",
			conf: map[string]string{"s3.endpoint": "http://from-d"},
			file: "s3.endpoint: http://from-file\ns3.path.style.access: true\n",
			want: S3Settings{Endpoint: "http://from-d", PathStyle: true, MaxAttempts: DefaultS3MaxAttempts}},
		{name: "flink-conf.yaml when there is no config.yaml",
			oldFile: "fs.s3a.endpoint: http://legacy:9000\n",
			want:    S3Settings{Endpoint: "http://legacy:9000", MaxAttempts: DefaultS3MaxAttempts}},
		{name: "access key without secret", conf: map[string]string{"s3.access-key": "AK"}, wantErr: "s3.access-key (-D) is set but no secret key"},
		{name: "secret without access key", conf: map[string]string{"fs.s3a.secret.key": "SK"}, wantErr: "fs.s3a.secret.key (-D) is set but no access key"},
		{name: "not a boolean", conf: map[string]string{"s3.path.style.access": "yes please"}, wantErr: `s3.path.style.access (-D) = "yes please": want true or false`},
		{name: "bad attempts", conf: map[string]string{"s3.attempts.maximum": "0"}, wantErr: "want a positive number of attempts"},
		{name: "broken file", file: "s3: [unclosed", wantErr: "config.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(tc.file), 0o600)
			}
			if tc.oldFile != "" {
				os.WriteFile(filepath.Join(dir, "flink-conf.yaml"), []byte(tc.oldFile), 0o600)
			}
			got, err := ResolveS3Settings(Options{Conf: tc.conf, FlinkConfDir: dir})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.KeysFrom = strings.ReplaceAll(got.KeysFrom, dir, "CONF")
			got.ConfFile = ""
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// FLINK_CONF_DIR is where the file is found when no directory is given.
func TestResolveS3SettingsFromFlinkConfDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("s3.endpoint: http://env-dir:9000\n"), 0o600)
	t.Setenv("FLINK_CONF_DIR", dir)
	got, err := ResolveS3Settings(Options{})
	if err != nil || got.Endpoint != "http://env-dir:9000" || got.ConfFile != filepath.Join(dir, "config.yaml") {
		t.Fatalf("%+v, %v", got, err)
	}
}

// Where the credentials come from is said: the Flink key that set them, or
// the provider of the AWS chain that answered.
func TestS3CredentialSource(t *testing.T) {
	t.Setenv("FLINK_CONF_DIR", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	ctx := context.Background()
	s, err := NewS3(ctx, Options{Conf: map[string]string{"fs.s3a.access.key": "AK", "fs.s3a.secret.key": "SK"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CredentialSource(ctx); got != "static keys from fs.s3a.access.key (-D)" {
		t.Errorf("static: %q", got)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "ENVAK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ENVSK")
	s, err = NewS3(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CredentialSource(ctx); !strings.Contains(got, "AWS default credential chain") || !strings.Contains(got, "Env") {
		t.Errorf("environment: %q", got)
	}
}

func TestRouterDescribe(t *testing.T) {
	t.Setenv("FLINK_CONF_DIR", "")
	ctx := context.Background()
	r := NewRouter(Options{Conf: map[string]string{"s3.endpoint": "http://minio:9000", "s3.path.style.access": "true", "s3.access-key": "AK", "s3.secret-key": "SK"}})
	cases := map[string]string{
		"/tmp/x":          "local disk",
		"s3a://bucket/ck": "S3 endpoint http://minio:9000 (path-style), credentials: static keys from s3.access-key (-D)",
	}
	for uri, want := range cases {
		if got, err := r.Describe(ctx, uri); err != nil || got != want {
			t.Errorf("Describe(%s) = %q, %v; want %q", uri, got, err, want)
		}
	}
	if _, err := r.Describe(ctx, "gcs://b/x"); err == nil {
		t.Error("Describe of an unsupported scheme succeeded")
	}
}
