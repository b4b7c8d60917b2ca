package spec

import (
	"bufio"
	"bytes"
	"strings"
)

// LooksLikeSpec tells a job spec from a uids file (one uid a line), the two
// things an --against value or an "@file" dry-run target can name. A name
// ending in .yaml or .yml is a spec; otherwise, when the content is at
// hand, a spec is what has a top-level "pipeline:" key (a uid never starts
// a line with it). Without content (a directory listing), the name alone
// decides.
func LooksLikeSpec(name string, content []byte) bool {
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml") {
		return true
	}
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(nil, len(content)+1)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte("pipeline:")) {
			return true
		}
	}
	return false
}
