package flinkrest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
)

// ckpt's extensions to Flink's answers — a job's num-retained and
// checkpoint directory in the checkpoint configuration, the job spec a job
// runs in its detail — survive encoding and decoding, are written only
// when there is something to say, and are simply absent (zero) in what
// real Flink sends.
func TestCkptExtensions(t *testing.T) {
	cc := &cluster.CheckpointConfig{Mode: "EXACTLY_ONCE", Retention: cluster.RetainOnCancellation, NumRetained: 3,
		CheckpointDir: "hdfs://nn:8020/ckpt/0123456789abcdef0123456789abcdef"}
	b, err := json.Marshal(EncodeCheckpointConfig(cc))
	if err != nil {
		t.Fatal(err)
	}
	var d CheckpointConfigDTO
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if got := DecodeCheckpointConfig(&d); got.NumRetained != 3 || got.CheckpointDir != cc.CheckpointDir {
		t.Errorf("checkpoint config round trip: %+v from %s", got, b)
	}
	j := &cluster.Job{ID: "0123456789abcdef0123456789abcdef", Status: cluster.JobRunning,
		Program: &cluster.Program{Name: "orders.yaml", ArtifactID: "abc_orders.yaml", Spec: "name: orders\n"}}
	b, err = json.Marshal(EncodeJob(j))
	if err != nil {
		t.Fatal(err)
	}
	var jd JobDetailDTO
	if err := json.Unmarshal(b, &jd); err != nil {
		t.Fatal(err)
	}
	if got := DecodeJob(&jd); got.Program == nil || *got.Program != *j.Program {
		t.Errorf("job program round trip: %+v from %s", got.Program, b)
	}

	// Nothing to say: no keys.
	b, _ = json.Marshal(EncodeCheckpointConfig(&cluster.CheckpointConfig{}))
	b2, _ := json.Marshal(EncodeJob(&cluster.Job{}))
	for _, s := range []string{string(b), string(b2)} {
		var m map[string]any
		json.Unmarshal([]byte(s), &m)
		for _, k := range []string{"ckpt_num_retained", "ckpt_checkpoint_dir", "ckpt_program"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s written without a value: %s", k, s)
			}
		}
	}

	// Real Flink: absent.
	for _, v := range []string{"flink-2.3.0", "flink-1.20.5"} {
		raw, err := os.ReadFile(filepath.Join("testdata", v, "checkpoints-config.json"))
		if err != nil {
			t.Fatal(err)
		}
		var d CheckpointConfigDTO
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if c := DecodeCheckpointConfig(&d); c.NumRetained != 0 || c.CheckpointDir != "" {
			t.Errorf("%s: extensions from nowhere: %+v", v, c)
		}
		raw, err = os.ReadFile(filepath.Join("testdata", v, "job.json"))
		if err != nil {
			t.Fatal(err)
		}
		var jd JobDetailDTO
		if err := json.Unmarshal(raw, &jd); err != nil {
			t.Fatal(err)
		}
		if j := DecodeJob(&jd); j.Program != nil {
			t.Errorf("%s: a program from nowhere: %+v", v, j.Program)
		}
	}
}
