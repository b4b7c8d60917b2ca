package state

// SetPageSize makes pages of n entries for a test; the returned func
// restores the size.
func SetPageSize(n int) func() {
	old := pageSize
	pageSize = n
	return func() { pageSize = old }
}

// Held is how many entries the screen holds in memory (its page).
func (s *Entries) Held() int { return len(s.rows) }
