package shell

import (
	"github.com/ckpt-dev/ckpt/cluster"
)

// TargetEntry is one target the contexts screen offers: a context of the
// config file, or the embedded engine of this process.
type TargetEntry struct {
	Name     string
	Endpoint string // the REST endpoint ("" for the embedded engine)
	Security string // how it is reached: "TLS ca, client cert · basic ops" (never a secret)
	Storage  string // where its checkpoints live ("" unknown)
	Current  bool   // the target the job screens operate now
}

// Targets is what the CLI gives the TUI to list and reach contexts: the
// resolution rules (endpoint, TLS, credentials) live in one place, the
// CLI's, and the TUI calls them. Both run in commands, never in Update.
type Targets struct {
	// List returns the contexts (and the embedded engine, when there is one).
	List func() ([]TargetEntry, error)
	// Connect reaches the named target: its cluster, the header's name for
	// it, and whether it runs in this process.
	Connect func(name string) (c cluster.Cluster, header string, inProcess bool, err error)
	// Checkpoints is where a context's checkpoints live ("" none).
	Checkpoints func(name string) string
}

// SwitchTargetMsg makes the job screens operate another target: the
// stack is closed and the jobs screen opens on it.
type SwitchTargetMsg struct {
	Name      string
	Cluster   cluster.Cluster
	Header    string
	InProcess bool
}
