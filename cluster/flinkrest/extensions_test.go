package flinkrest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	ops := []cluster.Operator{{ID: "bc764cd8ddf7a0cff126f51c16239658", UID: "orders", Name: "Source: orders"},
		{ID: "0a448493b4782967b150582570326227", Name: "enrich"}} // enrich has no uid (generated ID)
	j := &cluster.Job{ID: "0123456789abcdef0123456789abcdef", Status: cluster.JobRunning,
		Program:  &cluster.Program{Name: "orders.yaml", ArtifactID: "abc_orders.yaml", Spec: "name: orders\n"},
		Vertices: []cluster.Vertex{{ID: ops[0].ID, Name: "Source: orders -> enrich", Operators: ops}, {ID: "ea632d67b7d595e5b851708ae9ad79d6", Name: "sink"}}}
	b, err = json.Marshal(EncodeJob(j))
	if err != nil {
		t.Fatal(err)
	}
	var jd JobDetailDTO
	if err := json.Unmarshal(b, &jd); err != nil {
		t.Fatal(err)
	}
	got := DecodeJob(&jd)
	if got.Program == nil || *got.Program != *j.Program {
		t.Errorf("job program round trip: %+v from %s", got.Program, b)
	}
	if len(got.Vertices) != 2 || fmt.Sprint(got.Vertices[0].Operators) != fmt.Sprint(ops) || got.Vertices[1].Operators != nil {
		t.Errorf("vertex operators round trip: %+v from %s", got.Vertices, b)
	}
	if !strings.Contains(string(b), `"ckpt_operators":[{"id":"bc764cd8ddf7a0cff126f51c16239658","uid":"orders","name":"Source: orders"},{"id":"0a448493b4782967b150582570326227","name":"enrich"}]`) {
		t.Errorf("ckpt_operators not on the wire as documented: %s", b)
	}

	// Nothing to say: no keys.
	b, _ = json.Marshal(EncodeCheckpointConfig(&cluster.CheckpointConfig{}))
	b2, _ := json.Marshal(EncodeJob(&cluster.Job{Vertices: []cluster.Vertex{{ID: "ea632d67b7d595e5b851708ae9ad79d6"}}}))
	for _, s := range []string{string(b), string(b2)} {
		var m map[string]any
		json.Unmarshal([]byte(s), &m)
		for _, k := range []string{"ckpt_num_retained", "ckpt_checkpoint_dir", "ckpt_program"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s written without a value: %s", k, s)
			}
		}
		if strings.Contains(s, "ckpt_operators") {
			t.Errorf("ckpt_operators written without operators: %s", s)
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
		j := DecodeJob(&jd)
		if j.Program != nil {
			t.Errorf("%s: a program from nowhere: %+v", v, j.Program)
		}
		for _, vx := range j.Vertices {
			if vx.Operators != nil {
				t.Errorf("%s: operators from nowhere: %+v", v, vx.Operators)
			}
		}
	}
}
