package faults

import "testing"

func corruptFaults(t *testing.T, sz size)  { t.Skip("todo") }
func restFaults(t *testing.T, sz size)     { t.Skip("todo") }
func namenodeFaults(t *testing.T, sz size) { t.Skip("todo") }
