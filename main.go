// Command ckpt is a terminal cockpit for stream jobs and their checkpoints
// and savepoints. Without arguments it opens the TUI; subcommands inspect,
// list and operate on snapshots and jobs. See README.md.
package main

import (
	"os"

	"github.com/ckpt-dev/ckpt/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
