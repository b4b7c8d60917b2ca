package storage

import (
	"fmt"
	"strconv"
	"strings"
)

// S3Settings is what ckpt needs to reach an S3 endpoint, resolved the way
// Flink's S3 filesystems read their configuration: the -D values first,
// then the Flink configuration file, each under Flink's own key
// (s3.endpoint, s3.access-key, ...) or Hadoop S3A's (fs.s3a.endpoint,
// fs.s3a.access.key, ...). Whatever is not set there comes from the AWS
// SDK's defaults: the AWS_* environment, the shared config and
// credentials files (AWS_PROFILE), web identity and the instance role.
type S3Settings struct {
	// Endpoint is the S3-compatible endpoint URL; "" = AWS's own for the
	// region (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).
	Endpoint string
	// Region signs the requests; "" = the SDK's (AWS_REGION, profile),
	// else us-east-1.
	Region string
	// AccessKey/SecretKey/SessionToken are static credentials; empty means
	// the AWS default credential chain.
	AccessKey, SecretKey, SessionToken string
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key (what MinIO, Ceph and most on-premise stores need).
	PathStyle bool
	// MaxAttempts bounds the SDK's retries (throttling, 5xx, broken
	// connections), with jittered exponential backoff between them.
	MaxAttempts int
	// KeysFrom says where AccessKey came from ("" when not set).
	KeysFrom string
	// ConfFile is the Flink configuration file read, if any.
	ConfFile string
}

// DefaultS3MaxAttempts is Hadoop S3A's default for fs.s3a.attempts.maximum.
const DefaultS3MaxAttempts = 5

// The keys each setting is read from, first match wins. Flink's S3
// plugins accept both its own names and Hadoop's fs.s3a.* names.
var (
	s3EndpointKeys  = []string{"s3.endpoint", "fs.s3a.endpoint"}
	s3RegionKeys    = []string{"s3.endpoint.region", "s3.region", "fs.s3a.endpoint.region", "fs.s3a.region"}
	s3AccessKeys    = []string{"s3.access-key", "s3.access.key", "fs.s3a.access.key"}
	s3SecretKeys    = []string{"s3.secret-key", "s3.secret.key", "fs.s3a.secret.key"}
	s3TokenKeys     = []string{"s3.session.token", "fs.s3a.session.token"}
	s3PathStyleKeys = []string{"s3.path.style.access", "s3.path-style-access", "fs.s3a.path.style.access"}
	s3AttemptsKeys  = []string{"s3.attempts.maximum", "fs.s3a.attempts.maximum"}
	s3SSLKeys       = []string{"s3.connection.ssl.enabled", "fs.s3a.connection.ssl.enabled"}
)

// ResolveS3Settings reads the S3 settings from opts.Conf (the -D values)
// and the Flink configuration file in opts.FlinkConfDir or $FLINK_CONF_DIR.
func ResolveS3Settings(opts Options) (S3Settings, error) {
	file, fileName, err := LoadFlinkConf(FlinkConfDir(opts.FlinkConfDir))
	if err != nil {
		return S3Settings{}, fmt.Errorf("reading the Flink configuration: %w", err)
	}
	s := S3Settings{ConfFile: fileName, MaxAttempts: DefaultS3MaxAttempts}
	lookup := func(keys []string) (string, string) {
		for _, src := range []struct {
			name string
			m    map[string]string
		}{{"-D", opts.Conf}, {fileName, file}} {
			for _, k := range keys {
				if v, ok := src.m[k]; ok && strings.TrimSpace(v) != "" {
					return strings.TrimSpace(v), k + " (" + src.name + ")"
				}
			}
		}
		return "", ""
	}
	boolean := func(keys []string, def bool) (bool, error) {
		v, from := lookup(keys)
		if v == "" {
			return def, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%s = %q: want true or false", from, v)
		}
		return b, nil
	}
	s.Endpoint, _ = lookup(s3EndpointKeys)
	s.Region, _ = lookup(s3RegionKeys)
	s.AccessKey, s.KeysFrom = lookup(s3AccessKeys)
	var secretFrom string
	s.SecretKey, secretFrom = lookup(s3SecretKeys)
	s.SessionToken, _ = lookup(s3TokenKeys)
	if (s.AccessKey == "") != (s.SecretKey == "") {
		if s.AccessKey == "" {
			return S3Settings{}, fmt.Errorf("%s is set but no access key (s3.access-key or fs.s3a.access.key)", secretFrom)
		}
		return S3Settings{}, fmt.Errorf("%s is set but no secret key (s3.secret-key or fs.s3a.secret.key)", s.KeysFrom)
	}
	if s.PathStyle, err = boolean(s3PathStyleKeys, false); err != nil {
		return S3Settings{}, err
	}
	ssl, err := boolean(s3SSLKeys, true)
	if err != nil {
		return S3Settings{}, err
	}
	if v, from := lookup(s3AttemptsKeys); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return S3Settings{}, fmt.Errorf("%s = %q: want a positive number of attempts", from, v)
		}
		s.MaxAttempts = n
	}
	if s.Endpoint != "" && !strings.Contains(s.Endpoint, "://") {
		// Hadoop takes a bare host[:port] and picks the protocol from
		// fs.s3a.connection.ssl.enabled (default true).
		if ssl {
			s.Endpoint = "https://" + s.Endpoint
		} else {
			s.Endpoint = "http://" + s.Endpoint
		}
	}
	return s, nil
}
