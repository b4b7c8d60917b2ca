package spec

import "testing"

func TestLooksLikeSpec(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    bool
	}{
		{"job.yaml", "", true},
		{"job.yml", "", true},
		{"JOB.YAML", "", true},
		{"/specs/a/job.yaml", "src\nsink\n", true}, // the name decides first
		{"job", "name: x\npipeline:\n  - op: generator\n", true},
		{"job", "# a spec without suffix\npipeline:\n  - op: generator\n", true},
		{"uids.txt", "source\ncounter\nsink\n", false},
		{"uids", "", false},
		{"uids", "# pipeline: is mentioned in a comment\nsource\n", false},
		{"uids", "  pipeline: indented is not top level\n", false},
		{"uids", "my-pipeline:v2\n", false},
		{"job.yaml.bak", "source\n", false},
	}
	for _, tt := range tests {
		if got := LooksLikeSpec(tt.name, []byte(tt.content)); got != tt.want {
			t.Errorf("LooksLikeSpec(%q, %q) = %v, want %v", tt.name, tt.content, got, tt.want)
		}
	}
}
