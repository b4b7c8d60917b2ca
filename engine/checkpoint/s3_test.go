package checkpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// A state file larger than the S3 part size goes up as a multipart upload
// (S3 gives such an object an ETag ending in "-<parts>"), streamed from the
// local file, and is visible whole at its key when the upload completes —
// with no temporary marker left beside it. A small file is one PUT.
//
// Cost: a few seconds (20 MiB to the local S3 server).
func TestUploadToS3IsMultipartForLargeFiles(t *testing.T) {
	p := peers.S3(t)
	conf := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(p.FlinkConf()), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		conf[k] = v
	}
	fsys := storage.NewRouter(storage.Options{Timeout: time.Minute, Conf: conf})
	ctx := context.Background()
	base := p.BaseURI(t)
	if err := fsys.MkdirAll(ctx, storage.Join(base, "shared")); err != nil {
		t.Fatal(err)
	}
	client := s3.New(s3.Options{Region: p.Region, BaseEndpoint: aws.String(p.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(p.AccessKey, p.SecretKey, "")})

	for _, c := range []struct {
		name      string
		size      int
		multipart bool
	}{
		{"small", 100 << 10, false},
		{"large", 2*storage.DefaultS3PartSize + 12345, true},
	} {
		data := make([]byte, c.size)
		rand.Read(data)
		local := filepath.Join(t.TempDir(), "sst")
		if err := os.WriteFile(local, data, 0o600); err != nil {
			t.Fatal(err)
		}
		uri := storage.Join(base, "shared", c.name+"-sst")
		if err := uploadFile(ctx, fsys, local, uri); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		key := strings.TrimPrefix(uri, "s3://"+p.Bucket+"/")
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &p.Bucket, Key: &key})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		etag := strings.Trim(aws.ToString(head.ETag), `"`)
		if strings.Contains(etag, "-") != c.multipart || aws.ToInt64(head.ContentLength) != int64(c.size) {
			t.Errorf("%s: ETag %s, %d bytes; want multipart=%v, %d bytes", c.name, etag, aws.ToInt64(head.ContentLength), c.multipart, c.size)
		}
		got, err := storage.ReadAll(ctx, fsys, uri)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: read back %d bytes, %v", c.name, len(got), err)
		}
	}
	left, err := storage.ListAll(ctx, fsys, storage.Join(base, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range left {
		if storage.IsTemporary(fi.Name) {
			t.Errorf("temporary marker left: %s", fi.URI)
		}
	}
	if len(left) != 2 {
		t.Errorf("shared/ holds %d entries, want the 2 files", len(left))
	}
}
