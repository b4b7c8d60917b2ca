package faults

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Row is one fault family's figures.
type Row struct {
	Family string
	// Runs is how many seeded scenarios (or requests) ran.
	Runs int
	// Faults is how many faults were injected (kills, failed storage
	// calls, freezes, corrupt bytes, malformed requests).
	Faults int
	// Recovered is how many jobs (or snapshots) ended correct after the
	// faults: finished with the exact output, or refused with the file named.
	Recovered int
	// Lost and Duplicated count records of the exactly-once output.
	Lost, Duplicated int
	// ForeignDeleted counts files ckpt did not own that vanished or changed.
	ForeignDeleted int
	// P99 is the 99th-percentile latency under load (REST only).
	P99 time.Duration
	// Note says what a figure means where a column does not say it all.
	Note string
}

// Report collects rows from parallel subtests.
type Report struct {
	mu   sync.Mutex
	rows map[string]*Row
}

// Add adds r's figures to its family's row.
func (rep *Report) Add(r Row) {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if rep.rows == nil {
		rep.rows = map[string]*Row{}
	}
	cur, ok := rep.rows[r.Family]
	if !ok {
		c := r
		rep.rows[r.Family] = &c
		return
	}
	cur.Runs += r.Runs
	cur.Faults += r.Faults
	cur.Recovered += r.Recovered
	cur.Lost += r.Lost
	cur.Duplicated += r.Duplicated
	cur.ForeignDeleted += r.ForeignDeleted
	if r.P99 > cur.P99 {
		cur.P99 = r.P99
	}
	if r.Note != "" && !strings.Contains(cur.Note, r.Note) {
		if cur.Note != "" {
			cur.Note += "; "
		}
		cur.Note += r.Note
	}
}

// Table renders the report, one family a line, and the totals.
func (rep *Report) Table() string {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	var names []string
	for n := range rep.rows {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	const format = "%-28s %6s %7s %10s %6s %11s %16s %9s  %s\n"
	fmt.Fprintf(&b, format, "family", "runs", "faults", "recovered", "lost", "duplicated", "foreign deleted", "p99", "notes")
	var tot Row
	for _, n := range names {
		r := rep.rows[n]
		p99 := "-"
		if r.P99 > 0 {
			p99 = r.P99.Round(10 * time.Microsecond).String()
		}
		fmt.Fprintf(&b, format, n, fmt.Sprint(r.Runs), fmt.Sprint(r.Faults), fmt.Sprint(r.Recovered), fmt.Sprint(r.Lost),
			fmt.Sprint(r.Duplicated), fmt.Sprint(r.ForeignDeleted), p99, r.Note)
		tot.Runs += r.Runs
		tot.Faults += r.Faults
		tot.Recovered += r.Recovered
		tot.Lost += r.Lost
		tot.Duplicated += r.Duplicated
		tot.ForeignDeleted += r.ForeignDeleted
	}
	fmt.Fprintf(&b, format, "TOTAL", fmt.Sprint(tot.Runs), fmt.Sprint(tot.Faults), fmt.Sprint(tot.Recovered), fmt.Sprint(tot.Lost),
		fmt.Sprint(tot.Duplicated), fmt.Sprint(tot.ForeignDeleted), "", "")
	return b.String()
}

// Percentile is the p-th percentile (0 < p ≤ 100) of ds, nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(s) {
		rank = len(s) - 1
	}
	return s[rank]
}
