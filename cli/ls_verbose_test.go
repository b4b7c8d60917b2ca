package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// ls -v says on stderr how each storage is reached and where its
// credentials come from — the key that set them — and never a secret.
// Against the real S3, Azure and GCS peers (a few seconds each).
func TestLsVerboseNamesCredentialSources(t *testing.T) {
	dir := t.TempDir()
	code, _, errb := runCkpt(t, "ls", "-v", dir)
	if code != 0 || strings.TrimSpace(errb) != dir+": local disk" {
		t.Fatalf("ls -v local: exit %d, stderr %q", code, errb)
	}
	ctx := context.Background()
	type store struct {
		name    string
		peer    func(t *testing.T) (defs []string, base string, secret string)
		wantErr []string
	}
	stores := []store{
		{"s3", func(t *testing.T) ([]string, string, string) {
			p := peers.S3(t)
			defs := []string{"s3.endpoint=" + p.Endpoint, "s3.path.style.access=true", "s3.access-key=" + p.AccessKey, "s3.secret-key=" + p.SecretKey, "s3.endpoint.region=" + p.Region}
			return defs, p.BaseURI(t), p.SecretKey
		}, []string{"S3 endpoint " + "http://127.0.0.1:", "(path-style)", "credentials: static keys from s3.access-key (-D)"}},
		{"azure", func(t *testing.T) ([]string, string, string) {
			p := peers.Azure(t)
			var defs []string
			for k, v := range p.Conf(p.Key) {
				defs = append(defs, k+"="+v)
			}
			return defs, p.BaseURI(t), p.Key
		}, []string{"Azure Blob endpoint http://127.0.0.1:", "(account ckptpeer)", "credentials: shared key from fs.azure.account.key.ckptpeer.dfs.core.windows.net (-D)"}},
		{"gcs", func(t *testing.T) ([]string, string, string) {
			p := peers.GCS(t)
			var defs []string
			for k, v := range p.Conf() {
				defs = append(defs, k+"="+v)
			}
			return defs, p.BaseURI(t), ""
		}, []string{"GCS endpoint http://127.0.0.1:", "credentials: none (anonymous, fs.gs.auth.type (-D))"}},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			defs, base, secret := s.peer(t)
			opts := storage.Options{Conf: map[string]string{}}
			var args []string
			for _, d := range defs {
				k, v, _ := strings.Cut(d, "=")
				opts.Conf[k] = v
				args = append(args, "-D", d)
			}
			fsys := storage.NewRouter(opts)
			if err := fsys.MkdirAll(ctx, storage.Join(base, "chk-1")); err != nil {
				t.Fatal(err)
			}
			code, out, errb := runCkpt(t, append(append([]string{"ls", "-v"}, args...), base)...)
			if code != 0 || strings.TrimSpace(out) != "chk-1/" {
				t.Fatalf("ls -v %s: exit %d, stdout %q, stderr %q", base, code, out, errb)
			}
			if !strings.HasPrefix(errb, base+": ") {
				t.Errorf("stderr %q does not start with the URI", errb)
			}
			for _, w := range s.wantErr {
				if !strings.Contains(errb, w) {
					t.Errorf("stderr %q lacks %q", errb, w)
				}
			}
			if secret != "" && strings.Contains(errb+out, secret) {
				t.Errorf("ls -v shows the secret: %q", errb)
			}
		})
	}
}
