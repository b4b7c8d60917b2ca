package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// `ckpt run` with its checkpoints on object storage, configured by -D
// alone (s3.endpoint, s3.path.style.access, keys): the job is cancelled
// mid-way with its checkpoints retained on the real S3 server, then
// `ckpt run -s s3://…/chk-N` finishes it. The committed output equals an
// uninterrupted run's exactly (exactly-once across the S3 restore), and no
// "unknown key" warning is printed for the storage keys.
//
// Cost: about 20 s against the local S3 server (the S3 job runs 5 s).
func TestRunCheckpointsOnS3AndResumes(t *testing.T) {
	p := peers.S3(t)
	var s3Defs []string
	for _, line := range strings.Split(strings.TrimSpace(p.FlinkConf()), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		s3Defs = append(s3Defs, k+"="+v)
	}
	base := p.BaseURI(t)
	tmp := t.TempDir()
	spec := func(out string) string {
		return writeSpec(t, strings.Replace(boundedSpec(out), "limit: 2000", "limit: 15000\n    rate: 3000", 1))
	}

	// The reference: the same job, uninterrupted, on local disk.
	refOut := filepath.Join(tmp, "ref")
	if code, stdout, stderr := runCkpt(t, "run", spec(refOut), "--stats=0", "-Dexecution.checkpointing.interval=50ms",
		"-Dexecution.checkpointing.dir="+filepath.Join(tmp, "ckpt")); code != ExitOK {
		t.Fatalf("reference run: exit %d\n%s%s", code, stdout, stderr)
	}

	out := filepath.Join(tmp, "out")
	js := spec(out)
	dir := storage.Join(base, "checkpoints")
	over := config.New()
	for _, d := range append([]string{"execution.checkpointing.interval=50ms", "execution.checkpointing.dir=" + dir,
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION"}, s3Defs...) {
		if err := over.SetDynamic(d); err != nil {
			t.Fatal(err)
		}
	}
	// Cancelled once a checkpoint is complete on S3 (its _metadata visible),
	// seconds before the source's last record.
	fsys := storage.NewRouter(storage.Options{Conf: filesystemConf(s3Defs)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(100 * time.Millisecond) {
			if _, ok, _ := checkpoint.FindLatest(ctx, fsys, dir); ok {
				break
			}
		}
		cancel()
	}()
	var log bytes.Buffer
	runJob(ctx, js, over, &log, 0)
	if strings.Contains(log.String(), "unknown configuration key") {
		t.Errorf("the S3 keys were warned about as unknown:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "into "+dir) || !strings.Contains(log.String(), "retained checkpoints kept") {
		t.Fatalf("first run did not checkpoint into %s and keep them:\n%s", dir, log.String())
	}
	latest, ok, err := checkpoint.FindLatest(context.Background(), fsys, dir)
	if err != nil || !ok {
		t.Fatalf("no complete checkpoint on S3 under %s: %v\n%s", dir, err, log.String())
	}
	if !strings.HasPrefix(latest.Dir, "s3://") {
		t.Fatalf("latest checkpoint %s is not on S3", latest.Dir)
	}

	args := []string{"run", js, "--stats=0", "-s", latest.Dir, "-Dexecution.checkpointing.interval=50ms", "-Dexecution.checkpointing.dir=" + dir}
	for _, d := range s3Defs {
		args = append(args, "-D"+d)
	}
	code, stdout, stderr := runCkpt(t, args...)
	if code != ExitOK || !strings.Contains(stderr, "restored from "+latest.Dir) {
		t.Fatalf("ckpt run -s %s: exit %d\n%s%s", latest.Dir, code, stdout, stderr)
	}

	got, want := committedPerKey(t, out), committedPerKey(t, refOut)
	for _, m := range []map[string][]int64{got, want} {
		for _, v := range m {
			slices.Sort(v)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("output after the S3 restore differs from the uninterrupted run's:\n got %s\nwant %s", summarize(got), summarize(want))
	}
}

func summarize(m map[string][]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:%s ", k, abbreviate(m[k]))
	}
	return b.String()
}
