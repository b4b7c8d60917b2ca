package runner

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
)

// The Go list of supported operators and the Java one (Ops.java) are the
// same list: what ckpt lets through before upload is what the jar runs.
func TestSupportedEqualsJavaList(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("src", "main", "java", "dev", "ckpt", "runner", "Ops.java"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)// BEGIN SUPPORTED OPS(.*)// END SUPPORTED OPS`).FindSubmatch(src)
	if block == nil {
		t.Fatal("Ops.java: no BEGIN/END SUPPORTED OPS block")
	}
	var java []string
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(block[1], -1) {
		java = append(java, string(m[1]))
	}
	if !slices.Equal(java, Supported) {
		t.Errorf("Ops.java lists %v, runner.Supported %v", java, Supported)
	}
	if !slices.IsSorted(Supported) {
		t.Errorf("runner.Supported is not sorted: %v", Supported)
	}
	for _, op := range Supported {
		if !slices.Contains(spec.OpNames(), op) {
			t.Errorf("runner.Supported has %q, which is no job spec operator (%v)", op, spec.OpNames())
		}
	}
}

func parse(t *testing.T, text string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("job.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const counts = `name: counts
parallelism: 2
config:
  execution.checkpointing.interval: 1 s
pipeline:
  - op: generator
    uid: source
  - op: keyBy
  - op: dedupe
    uid: seen
  - op: discard
`

func TestCheckNamesTheStep(t *testing.T) {
	s := parse(t, counts)
	if err := Check(s, nil); err != nil {
		t.Fatalf("every built-in is supported: %v", err)
	}
	err := Check(s, []string{"generator", "keyBy", "discard"})
	want := `job.yaml:9:5: step 3 (dedupe): ckpt's runner for Flink has no counterpart for "dedupe"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want %s…", err, want)
	}
}

func TestProgramFor(t *testing.T) {
	s := parse(t, counts)
	over := config.New()
	if err := over.Set(config.Parallelism, "3", "-p"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		over     *config.Config
		conf     map[string]string
		wantP    string
		wantConf []string
	}{
		{"spec parallelism", nil, nil, "2", nil},
		{"-p wins", over, nil, "3", nil},
		{"-D sent on sorted", nil, map[string]string{"b.key": "2", "a.key": "1"}, "2", []string{"--conf", "a.key=1", "--conf", "b.key=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ProgramFor(s, tt.over, tt.conf, "/work/dir")
			if err != nil {
				t.Fatal(err)
			}
			args := map[string]string{}
			for i := 0; i+1 < len(p.Args); i += 2 {
				if p.Args[i] != "--conf" {
					args[p.Args[i]] = p.Args[i+1]
				}
			}
			text, err := base64.StdEncoding.DecodeString(args["--spec-base64"])
			if err != nil || string(text) != counts {
				t.Errorf("spec sent as %q (%v)", text, err)
			}
			if args["--parallelism"] != tt.wantP || args["--workdir"] != "/work/dir" {
				t.Errorf("args %v", p.Args)
			}
			var conf []string
			for i := 0; i+1 < len(p.Args); i += 2 {
				if p.Args[i] == "--conf" {
					conf = append(conf, p.Args[i], p.Args[i+1])
				}
			}
			if !slices.Equal(conf, tt.wantConf) {
				t.Errorf("conf args %v, want %v", conf, tt.wantConf)
			}
			if p.Config["execution.checkpointing.interval"] != "1 s" || p.Config["a.key"] != tt.conf["a.key"] {
				t.Errorf("flinkConfiguration %v: want the spec's config and -D", p.Config)
			}
		})
	}
	if _, err := ProgramFor(s, nil, nil, ""); err != nil {
		t.Errorf("no checkpoint directory in the spec: %v (the cluster's is used)", err)
	}
}

func TestLoadJarNamesItByChecksum(t *testing.T) {
	dir := t.TempDir()
	jar := filepath.Join(dir, "x.jar")
	os.WriteFile(jar, []byte("PK\x03\x04 one"), 0o644)
	t.Setenv(JarEnv, jar)
	a, err := LoadJar()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(jar, []byte("PK\x03\x04 two"), 0o644)
	b, err := LoadJar()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ckpt-flink-runner-[0-9a-f]{16}\.jar$`).MatchString(a.UploadName) || a.UploadName == b.UploadName {
		t.Errorf("upload names %s, %s: want the checksum in the name", a.UploadName, b.UploadName)
	}
	t.Setenv(JarEnv, filepath.Join(dir, "missing.jar"))
	if _, err := LoadJar(); err == nil || !strings.Contains(err.Error(), "make runner") {
		t.Errorf("missing jar: %v", err)
	}
}
