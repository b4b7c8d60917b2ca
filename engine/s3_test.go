package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// useS3 points storage.Default() — what the engine and the crash children
// use — at the real S3 peer the way an operator's ckpt finds it: through
// Flink's configuration file. The S3 client is made on first use and kept
// for the test binary (the peer lives as long), so the first call decides.
func useS3(t *testing.T) *peers.S3Peer {
	t.Helper()
	p, _, _ := useObjectStores(t)
	return p
}

// useObjectStores is useS3 for every object store at once (S3, Azure, GCS):
// one Flink configuration file reaching all three, since the first use of
// storage.Default() in the binary decides what it reaches.
func useObjectStores(t *testing.T) (*peers.S3Peer, *peers.AzurePeer, *peers.GCSPeer) {
	t.Helper()
	s3p, az, gcs := peers.S3(t), peers.Azure(t), peers.GCS(t)
	dir := t.TempDir()
	conf := s3p.FlinkConf() + "\n" + az.FlinkConf() + "\n" + gcs.FlinkConf() + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLINK_CONF_DIR", dir)
	return s3p, az, gcs
}

// The engine on Azure Blob and GCS (Azurite, fake-gcs-server): a job that
// fails twice restores from its checkpoints there and commits exactly the
// reference output. (The kill and savepoint scenarios run on S3 above;
// all three stores share the object-store rules.)
func TestExactlyOnceOnAzureAndGCS(t *testing.T) {
	_, az, gcs := useObjectStores(t)
	for _, st := range []struct{ name, base string }{{"azure", az.BaseURI(t)}, {"gcs", gcs.BaseURI(t)}} {
		t.Run(st.name, func(t *testing.T) {
			exactlyOnceAcrossFailover(t, storage.Join(st.base, "checkpoints"), failover{records: 12000, keys: 40, failAfter: 2000, rate: 30000, interval: "100ms"})
		})
	}
}

// The exactly-once suite on object storage (the real S3 server): in-process
// failover restoring from S3, whole processes killed (inside uploads and
// just before _metadata) and resumed from the latest complete checkpoint
// found on S3, a savepoint on S3 resumed rescaled, and what we wrote there:
// no rename on an object store, so a snapshot is complete exactly when its
// _metadata is visible, and no temporary marker outlives a finished write.
//
// Cost: about 25 s against the local S3 server on a 2-core machine.
func TestExactlyOnceOnS3(t *testing.T) {
	p := useS3(t)
	base := p.BaseURI(t)

	t.Run("panicking operator", func(t *testing.T) {
		exactlyOnceAcrossFailover(t, storage.Join(base, "panic"), failover{records: 12000, keys: 40, failAfter: 2000, rate: 30000, interval: "100ms"})
	})

	for seed := int64(2); seed <= 3; seed++ { // seed 1 kills before any checkpoint completes
		t.Run(fmt.Sprintf("SIGKILL seed=%d", seed), func(t *testing.T) {
			crashScenario(t, seed, storage.Join(base, fmt.Sprintf("kill-%d", seed)), t.TempDir())
		})
	}

	t.Run("savepoint on S3, rescaled resume", func(t *testing.T) {
		const records = 12000
		for _, format := range []snapshot.SavepointFormat{snapshot.FormatCanonical, snapshot.FormatNative} {
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			job := submitCounts(t, out, records, 2, "")
			time.Sleep(200 * time.Millisecond)
			sp, err := job.StopWithSavepoint(context.Background(), storage.Join(base, "sp-"+string(format)), format, false)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(sp, "s3://") {
				t.Fatalf("savepoint %s is not on S3", sp)
			}
			resumed := submitCounts(t, out, records, 3, sp)
			if st, err := resumed.Wait(); st != Finished {
				t.Fatalf("%s: %s %v", format, st, err)
			}
			if got, want := committed(t, out), reference(records, 53); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s: %s", format, diff(got, want))
			}
		}
	})

	t.Run("retained checkpoints: complete by _metadata, no leftovers", func(t *testing.T) {
		ctx := context.Background()
		fsys := storage.Default()
		dir := storage.Join(base, "retained")
		job, chk := runUntilCheckpoints(t, dir, 3)
		if !strings.HasPrefix(chk, "s3://") {
			t.Fatalf("latest checkpoint %s is not on S3", chk)
		}
		m, err := checkpoint.LoadMetadata(ctx, fsys, chk)
		if err != nil {
			t.Fatal(err)
		}
		var shared int
		for _, op := range m.Operators {
			for _, st := range op.Subtasks {
				if ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
					for _, f := range ih.Shared {
						uri, _, _ := m.FileURI(f.Handle)
						if !storage.Within(storage.Join(job.CheckpointDir(), "shared"), uri) {
							t.Errorf("shared file %s not under the job's shared/ on S3", uri)
						}
						if _, err := fsys.Stat(ctx, uri); err != nil {
							t.Errorf("shared file missing: %v", err)
						}
						shared++
					}
				}
			}
		}
		if shared == 0 {
			t.Fatal("no shared SST files referenced")
		}
		// Every chk-N left holds _metadata, and nothing below the job is a
		// temporary name of an unfinished write.
		var chks int
		err = fsys.Walk(ctx, job.CheckpointDir(), func(fi storage.FileInfo) error {
			if storage.IsTemporary(fi.Name) {
				t.Errorf("temporary object left behind: %s", fi.URI)
			}
			if _, ok := snapshot.ParseCheckpointDirName(fi.Name); ok && fi.IsDir {
				chks++
				if _, err := fsys.Stat(ctx, storage.Join(fi.URI, snapshot.MetadataFileName)); err != nil {
					t.Errorf("%s has no _metadata: %v", fi.URI, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if chks == 0 {
			t.Fatal("no chk-N retained")
		}
	})
}
