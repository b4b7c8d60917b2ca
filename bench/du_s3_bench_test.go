package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ckpt-dev/ckpt/cli"
	"github.com/ckpt-dev/ckpt/peers"
)

// The du tree on the S3 peer: duJobs job directories, each with a shared/
// of many SST-like objects and a few chk-N, duObjects objects in all
// (about what a year of incremental checkpoints leaves behind).
const (
	duObjects   = 100_000
	duJobs      = 10
	duChks      = 20 // chk-N per job, each with _metadata and one state file
	duObjSize   = 64
	duDonePath  = "_populated" // written last: the tree is whole
	duPutters   = 16
	duBenchRoot = "bench-du"
)

var (
	duOnce sync.Once
	duErr  error
)

// s3Client is a plain SDK client for the peer, path-style, owner keys.
func s3Client(p *peers.S3Peer) *s3.Client {
	return s3.New(s3.Options{
		Region:       p.Region,
		BaseEndpoint: aws.String(p.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(p.AccessKey, p.SecretKey, ""),
	})
}

// populateDu creates the tree once per run of the benchmark binary (the
// server keeps it for as long as it runs; a tree already whole, marked by
// duDonePath, is reused).
func populateDu(ctx context.Context, c *s3.Client, bucket string) error {
	done := duBenchRoot + "/" + duDonePath
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &done}); err == nil {
		return nil
	}
	keys := make(chan string, 1024)
	errs := make(chan error, duPutters)
	var wg sync.WaitGroup
	body := bytes.Repeat([]byte("x"), duObjSize)
	for range duPutters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
					errs <- fmt.Errorf("put %s: %w", k, err)
					for range keys {
					}
					return
				}
			}
		}()
	}
	perJob := duObjects / duJobs
	for j := range duJobs {
		job := fmt.Sprintf("%s/checkpoints/%032x", duBenchRoot, j+1)
		for i := range perJob - 2*duChks {
			keys <- fmt.Sprintf("%s/shared/%08x-%04x-sst", job, i, j)
		}
		for n := range duChks {
			keys <- fmt.Sprintf("%s/chk-%d/_metadata", job, n+1)
			keys <- fmt.Sprintf("%s/chk-%d/op-state-%d", job, n+1, n)
		}
	}
	close(keys)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &done, Body: bytes.NewReader(nil)})
	return err
}

// serverListing is the server's own listing rate: a plain paginated
// ListObjectsV2 loop over the prefix, 1,000 keys a page, adding up sizes.
func serverListing(ctx context.Context, c *s3.Client, bucket, prefix string) (objects, size int64, err error) {
	pg := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return 0, 0, err
		}
		for _, o := range out.Contents {
			objects++
			size += aws.ToInt64(o.Size)
		}
	}
	return objects, size, nil
}

// ckptDu runs `ckpt du --json URI` in process, as a user runs it.
func ckptDu(ctx context.Context, confDir, uri string) (files, bytes_ int64, err error) {
	var out, errb bytes.Buffer
	root := cli.NewRoot()
	root.SetArgs([]string{"--flink-conf-dir", confDir, "du", "--json", uri})
	root.SetOut(&out)
	root.SetErr(&errb)
	if err := root.ExecuteContext(ctx); err != nil {
		return 0, 0, fmt.Errorf("ckpt du %s: %v\n%s", uri, err, errb.String())
	}
	var rep struct {
		Files int64 `json:"files"`
		Bytes int64 `json:"bytes"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return 0, 0, fmt.Errorf("ckpt du --json: %v\n%s", err, out.String())
	}
	return rep.Files, rep.Bytes, nil
}

// BenchmarkDuS3: `ckpt du` of 100,000 objects on the real S3 server (moto)
// against the server's own listing rate, measured side by side in one
// run: ratio = listing time / du time (above 1: du is faster than one
// plain listing loop). The 1-minute load average is reported with it.
// Populating the tree costs minutes (moto takes some 70 PUTs a second);
// to populate once for several runs, start peers/s3/server.py by hand and
// export its s3.env (CKPT_S3_*): the tree is reused while it lives.
//
//	go test -run '^$' -bench BenchmarkDuS3 -benchtime 1x ./bench/
//
// Measured 2026-12-07 (2 cores, load 11-36 from other work): ckpt du 2m04s,
// the server's own listing 6m23s, ratio 3.08. moto scans and sorts every
// key under the prefix for each page, so per-subtree listings side by side
// cost it less than one listing of the whole prefix.
func BenchmarkDuS3(b *testing.B) {
	p := peers.S3(b)
	ctx := context.Background()
	c := s3Client(p)
	duOnce.Do(func() {
		start := time.Now()
		duErr = populateDu(ctx, c, p.Bucket)
		b.Logf("%d objects on the S3 peer in %v", duObjects, time.Since(start).Round(time.Second))
	})
	if duErr != nil {
		b.Fatal(duErr)
	}
	confDir := b.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(p.FlinkConf()), 0o600); err != nil {
		b.Fatal(err)
	}
	uri := "s3://" + p.Bucket + "/" + duBenchRoot + "/checkpoints"
	prefix := duBenchRoot + "/checkpoints/"
	var listTime, duTime time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		n, size, err := serverListing(ctx, c, p.Bucket, prefix)
		if err != nil {
			b.Fatal(err)
		}
		listTime += time.Since(t0)
		t0 = time.Now()
		files, bytes_, err := ckptDu(ctx, confDir, uri)
		if err != nil {
			b.Fatal(err)
		}
		duTime += time.Since(t0)
		if n != duObjects || files != n || bytes_ != size {
			b.Fatalf("listing saw %d objects (%d B), ckpt du %d files (%d B); want %d", n, size, files, bytes_, duObjects)
		}
	}
	b.StopTimer()
	listRate := float64(duObjects) * float64(b.N) / listTime.Seconds()
	duRate := float64(duObjects) * float64(b.N) / duTime.Seconds()
	b.ReportMetric(listRate, "server-list-obj/s")
	b.ReportMetric(duRate, "ckpt-du-obj/s")
	b.ReportMetric(duRate/listRate, "ratio")
	b.ReportMetric(loadAvg(), "load1")
	b.Logf("ckpt du of %d objects: %v a run, the server's listing %v (ratio %.2f), load %.1f",
		duObjects, (duTime / time.Duration(b.N)).Round(time.Millisecond), (listTime / time.Duration(b.N)).Round(time.Millisecond),
		duRate/listRate, loadAvg())
}
