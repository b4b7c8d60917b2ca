package faults

import "testing"

func namenodeFaults(t *testing.T, sz size) { t.Skip("todo") }
