package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GCSSettings is what ckpt needs to reach Google Cloud Storage, read the
// way Flink's flink-gs-fs-hadoop plugin reads it: Flink's own gs.* keys,
// and the Hadoop GCS connector's fs.gs.* keys (Flink hands gs.X to the
// connector as fs.gs.X), from -D then the Flink configuration file.
// Without a key file named there, Google's application default
// credentials: GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC file, the
// metadata server on Google Cloud.
type GCSSettings struct {
	// Endpoint is the storage root URL (fs.gs.storage.root.url), e.g. an
	// emulator's http://127.0.0.1:4443/; "" = Google's own.
	Endpoint string
	// KeyFile is a service-account JSON key file; KeyFrom says where from.
	KeyFile, KeyFrom string
	// Anonymous sends no credentials (fs.gs.auth.type: UNAUTHENTICATED),
	// for public buckets and emulators.
	Anonymous bool
	AuthFrom  string
	// ChunkSize is the upload chunk size (gs.writer.chunk.size): writes up
	// to it are one request, larger ones a resumable upload in chunks.
	ChunkSize int
	// MaxAttempts bounds attempts of throttled (429/503) and failed
	// requests, with exponential backoff between them.
	MaxAttempts int
	// ConfFile is the Flink configuration file read, if any.
	ConfFile string
}

// DefaultGCSMaxAttempts bounds attempts when gs.retry.max-attempt is not
// set (the client library's own default is 6).
const DefaultGCSMaxAttempts = 5

// both gives the Flink spelling and the connector's for a key.
func both(key string) []string { return []string{"gs." + key, "fs.gs." + key} }

// ResolveGCSSettings reads the GCS settings from opts.Conf (the -D values)
// and the Flink configuration file.
func ResolveGCSSettings(opts Options) (GCSSettings, error) {
	l, err := newFlinkLookup(opts)
	if err != nil {
		return GCSSettings{}, err
	}
	s := GCSSettings{ConfFile: l.fileName, MaxAttempts: DefaultGCSMaxAttempts, ChunkSize: defaultObjectPartSize}
	s.Endpoint, _ = l.get(both("storage.root.url")...)
	if s.Endpoint != "" && !strings.HasSuffix(s.Endpoint, "/") {
		s.Endpoint += "/"
	}
	s.KeyFile, s.KeyFrom = l.get(append(both("auth.service.account.json.keyfile"), "google.cloud.auth.service.account.json.keyfile")...)
	authType, authFrom := l.get(both("auth.type")...)
	switch strings.ToUpper(authType) {
	case "", "APPLICATION_DEFAULT", "COMPUTE_ENGINE":
	case "SERVICE_ACCOUNT_JSON_KEYFILE":
		if s.KeyFile == "" {
			return GCSSettings{}, fmt.Errorf("%s = %s but no fs.gs.auth.service.account.json.keyfile", authFrom, authType)
		}
	case "UNAUTHENTICATED":
		s.Anonymous, s.AuthFrom = true, authFrom
	default:
		return GCSSettings{}, fmt.Errorf("%s = %q: ckpt knows APPLICATION_DEFAULT, SERVICE_ACCOUNT_JSON_KEYFILE and UNAUTHENTICATED", authFrom, authType)
	}
	if v, from := l.get(both("writer.chunk.size")...); v != "" {
		n, err := parseBytes(v)
		if err != nil || n < 256<<10 || n%(256<<10) != 0 {
			return GCSSettings{}, fmt.Errorf("%s = %q: want a multiple of 256 KiB (e.g. 8mb)", from, v)
		}
		s.ChunkSize = int(n)
	}
	if v, from := l.get(append(both("retry.max-attempt"), "fs.gs.max.requests.retries")...); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return GCSSettings{}, fmt.Errorf("%s = %q: want a positive number of attempts", from, v)
		}
		s.MaxAttempts = n
	}
	return s, nil
}

// parseBytes reads Flink's memory sizes: "8388608", "8mb", "8 m", "256kb".
func parseBytes(v string) (int64, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	switch strings.TrimSpace(v[i:]) {
	case "", "b", "bytes":
		return n, nil
	case "k", "kb", "kibibytes":
		return n << 10, nil
	case "m", "mb", "mebibytes":
		return n << 20, nil
	case "g", "gb", "gibibytes":
		return n << 30, nil
	}
	return 0, fmt.Errorf("unknown unit in %q", v)
}

// gcsADCSource says where Google's application default credentials will
// come from, from what the environment holds (never the credentials).
func gcsADCSource() string {
	if f := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); f != "" {
		return "application default credentials from GOOGLE_APPLICATION_CREDENTIALS (" + f + ")"
	}
	dir := os.Getenv("CLOUDSDK_CONFIG")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".config", "gcloud")
		}
	}
	if dir != "" {
		f := filepath.Join(dir, "application_default_credentials.json")
		if _, err := os.Stat(f); err == nil {
			return "application default credentials from gcloud (" + f + ")"
		}
	}
	return "application default credentials from the metadata server (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud login)"
}
