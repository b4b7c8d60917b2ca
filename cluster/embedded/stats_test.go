package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/event"
)

// TestConcurrentManualCheckpointStats triggers 30 manual checkpoints and
// a few savepoints at once on a running job: they complete, get subsumed
// or fail in any order, and the statistics must add up afterwards —
// nothing left in progress, every one counted once as completed or failed,
// as the trigger operations report them, each savepoint with its format.
func TestConcurrentManualCheckpointStats(t *testing.T) {
	c, dir := newCluster(t)
	ctx := context.Background()
	// No periodic checkpoints: only the manual ones below are counted.
	id := submit(t, c, strings.Replace(countsSpec, "100 ms", "1 h", 1), cluster.RunRequest{})
	waitFor(t, "RUNNING", func() bool { j, err := c.Job(ctx, id); return err == nil && j.Status == cluster.JobRunning })

	const n = 30
	formats := []cluster.SavepointFormat{cluster.Native, cluster.Canonical, cluster.Native, cluster.Canonical}
	triggers := make([]cluster.Trigger, n+len(formats))
	var wg sync.WaitGroup
	for i := range triggers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tr cluster.Trigger
			var err error
			if i < n {
				tr, err = c.TriggerCheckpoint(ctx, id, cluster.CheckpointRequest{})
			} else {
				tr, err = c.TriggerSavepoint(ctx, id, cluster.SavepointRequest{TargetDir: filepath.Join(dir, "savepoints"), Format: formats[i-n]})
			}
			if err != nil {
				t.Error(err)
			}
			triggers[i] = tr
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	completed, failed := map[int64]bool{}, 0
	savepoints := map[string]cluster.SavepointFormat{} // written: directory → format asked for
	for i, tr := range triggers {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		op, err := cluster.Wait(wctx, c, tr)
		cancel()
		switch {
		case op == nil || !op.Done():
			t.Fatalf("trigger %s: %v", tr.ID, err)
		case op.Failure != nil: // subsumed by a newer one, most of them
			failed++
		case i >= n:
			savepoints[op.Location] = formats[i-n]
		default:
			completed[op.CheckpointID] = true
		}
	}
	if len(completed) == 0 || len(savepoints) == 0 {
		t.Fatalf("%d checkpoints and %d savepoints completed", len(completed), len(savepoints))
	}
	var newest int64
	for cp := range completed {
		newest = max(newest, cp)
	}
	// The events reach the statistics asynchronously: give them a moment,
	// then check whatever they show.
	total := len(triggers)
	var st *cluster.CheckpointStats
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if st, err = c.Checkpoints(ctx, id); err != nil {
			t.Fatal(err)
		}
		if st.Counts.InProgress == 0 && st.Counts.Completed+st.Counts.Failed == total || time.Now().After(deadline) {
			break
		}
	}
	if st.Counts.InProgress != 0 || st.Counts.Total != st.Counts.Completed+st.Counts.Failed+st.Counts.InProgress {
		t.Errorf("counts %+v: in progress left over or not adding up", st.Counts)
	}
	if st.Counts.Total != total || st.Counts.Completed != len(completed)+len(savepoints) || st.Counts.Failed != failed {
		t.Errorf("counts %+v, want %d triggered, %d completed, %d failed", st.Counts, total, len(completed)+len(savepoints), failed)
	}
	if len(st.History) != historySize {
		t.Fatalf("history of %d entries", len(st.History))
	}
	for i, h := range st.History {
		if h.Status == cluster.CheckpointInProgress || (i > 0 && h.ID >= st.History[i-1].ID) {
			t.Errorf("history[%d] = checkpoint %d %s (newest first, none in progress)", i, h.ID, h.Status)
		}
		switch f, ok := savepoints[h.ExternalPath]; {
		case h.Savepoint && h.Status == cluster.CheckpointCompleted && (!ok || h.SavepointFormat != string(f)):
			t.Errorf("history: savepoint %d in %s %s, asked for %q", h.ID, h.ExternalPath, h.SavepointFormat, f)
		case !h.Savepoint && (h.Status == cluster.CheckpointCompleted) != completed[h.ID]:
			t.Errorf("history: checkpoint %d %s; its trigger said completed=%v", h.ID, h.Status, completed[h.ID])
		}
	}
	if st.LatestCompleted == nil || st.LatestCompleted.ID != newest {
		t.Errorf("latest completed %+v, want checkpoint %d", st.LatestCompleted, newest)
	}
	if sp := st.LatestSavepoint; sp == nil || sp.SavepointFormat != string(savepoints[sp.ExternalPath]) {
		t.Errorf("latest savepoint %+v; formats asked %v", sp, savepoints)
	}
}

// outcome is how one checkpoint of a scenario ends.
type outcome struct {
	id        int64
	savepoint bool
	completed bool // else failed
}

// scenarioEvents are the events of the outcomes: trigger, an
// acknowledgement, the end (completion or failure), at times that keep
// each checkpoint's events in causal order.
func scenarioEvents(tr *tracker, outs []outcome, t0 time.Time) []event.Event {
	var evs []event.Event
	for _, o := range outs {
		at := t0.Add(time.Duration(o.id) * time.Second)
		evs = append(evs, event.Event{Kind: event.CheckpointTriggered, Time: at, CheckpointID: o.id, Savepoint: o.savepoint},
			event.Event{Kind: event.SubtaskAcknowledged, Time: at.Add(time.Millisecond), CheckpointID: o.id,
				OperatorID: tr.chains[0].ops[0].ID.String(), StateSize: 10})
		end := event.Event{Kind: event.CheckpointFailed, Time: at.Add(5 * time.Millisecond), CheckpointID: o.id,
			Savepoint: o.savepoint, Duration: 5 * time.Millisecond, Cause: "Checkpoint " + fmt.Sprint(o.id) + " was subsumed."}
		if o.completed {
			end.Kind, end.Cause, end.Path = event.CheckpointCompleted, "", fmt.Sprintf("/c/chk-%d", o.id)
		}
		evs = append(evs, end)
	}
	return evs
}

// TestTrackerInterleavings feeds the same checkpoints' events in many
// orders — completions out of order, failures (subsumption, expiry)
// reported before their trigger, savepoints among checkpoints, more in
// flight than the history holds, repeated events — and checks the counts
// after every event and the counts, history and latest entries at the
// end: the same whatever the order.
func TestTrackerInterleavings(t *testing.T) {
	var outs []outcome
	for id := int64(1); id <= 25; id++ {
		outs = append(outs, outcome{id: id, savepoint: id%7 == 0, completed: id%3 != 1})
	}
	var wantC, wantS, wantF int64
	completed := 0
	for _, o := range outs {
		switch {
		case !o.completed:
			wantF = max(wantF, o.id)
		case o.savepoint:
			wantS = max(wantS, o.id)
			completed++
		default:
			wantC = max(wantC, o.id)
			completed++
		}
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		tr := countsTracker(t)
		evs := scenarioEvents(tr, outs, t0)
		switch round {
		case 0: // in order
		case 1: // every trigger first, then the ends newest first
			sort.SliceStable(evs, func(i, j int) bool {
				ti, tj := evs[i].Kind == event.CheckpointTriggered, evs[j].Kind == event.CheckpointTriggered
				if ti != tj {
					return ti
				}
				return !ti && evs[i].CheckpointID > evs[j].CheckpointID
			})
		default:
			rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		}
		evs = append(evs, evs[rng.IntN(len(evs))]) // one event twice
		seen, ended := map[int64]bool{}, map[int64]bool{}
		for _, e := range evs {
			tr.observe(e)
			if e.Kind != event.SubtaskAcknowledged || seen[e.CheckpointID] {
				seen[e.CheckpointID] = true
			}
			if e.Kind == event.CheckpointCompleted || e.Kind == event.CheckpointFailed {
				ended[e.CheckpointID] = true
			}
			c := tr.stats(t0).Counts
			if c.Total != len(seen) || c.InProgress != len(seen)-len(ended) || c.Total != c.Completed+c.Failed+c.InProgress {
				t.Fatalf("round %d after %s of %d: counts %+v, want %d triggered, %d in progress",
					round, e.Kind, e.CheckpointID, c, len(seen), len(seen)-len(ended))
			}
		}
		st := tr.stats(t0)
		if st.Counts.Total != len(outs) || st.Counts.InProgress != 0 || st.Counts.Completed != completed || st.Counts.Failed != len(outs)-completed {
			t.Fatalf("round %d: counts %+v", round, st.Counts)
		}
		if len(st.History) != historySize {
			t.Fatalf("round %d: %d history entries", round, len(st.History))
		}
		for i, h := range st.History {
			o := outs[len(outs)-1-i]
			want := cluster.CheckpointFailed
			if o.completed {
				want = cluster.CheckpointCompleted
			}
			if h.ID != o.id || h.Status != want || h.Savepoint != o.savepoint || h.TriggerTime != t0.Add(time.Duration(o.id)*time.Second) {
				t.Errorf("round %d: history[%d] = %d %s savepoint=%v trigger %v, want %d %s savepoint=%v",
					round, i, h.ID, h.Status, h.Savepoint, h.TriggerTime, o.id, want, o.savepoint)
			}
		}
		if st.LatestCompleted.ID != wantC || st.LatestSavepoint.ID != wantS || st.LatestFailed.ID != wantF {
			t.Errorf("round %d: latest completed %d savepoint %d failed %d, want %d %d %d", round,
				st.LatestCompleted.ID, st.LatestSavepoint.ID, st.LatestFailed.ID, wantC, wantS, wantF)
		}
		if len(tr.all) != historySize {
			t.Errorf("round %d: %d entries kept for %d in the history", round, len(tr.all), historySize)
		}
	}
}

func TestSpans(t *testing.T) {
	for _, tc := range []struct {
		add  []int64
		want spans
	}{
		{nil, nil},
		{[]int64{5}, spans{{5, 5}}},
		{[]int64{5, 6, 7}, spans{{5, 7}}},
		{[]int64{7, 6, 5}, spans{{5, 7}}},
		{[]int64{5, 7, 6}, spans{{5, 7}}},
		{[]int64{5, 9, 7}, spans{{5, 5}, {7, 7}, {9, 9}}},
		{[]int64{5, 9, 7, 8, 6}, spans{{5, 9}}},
		{[]int64{3, 1, 3, 2, 10}, spans{{1, 3}, {10, 10}}},
	} {
		var s spans
		for _, id := range tc.add {
			s.add(id)
		}
		if fmt.Sprint(s) != fmt.Sprint(tc.want) {
			t.Errorf("add %v: %v, want %v", tc.add, s, tc.want)
		}
		for id := int64(0); id <= 11; id++ {
			if s.has(id) != slices.Contains(tc.add, id) {
				t.Errorf("add %v: has(%d) = %v", tc.add, id, s.has(id))
			}
		}
	}
}

// TestTrackerRestarts: a job failing over restores its latest completed
// checkpoint (Flink counts every restore); the checkpoints aborted by the
// failover and those failing after it are counted once each.
func TestTrackerRestarts(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	trig := func(id int64, s int) event.Event {
		return event.Event{Kind: event.CheckpointTriggered, Time: at(s), CheckpointID: id}
	}
	done := func(id int64, s int, path string) event.Event {
		return event.Event{Kind: event.CheckpointCompleted, Time: at(s), CheckpointID: id, Path: path}
	}
	fail := func(id int64, s int) event.Event {
		return event.Event{Kind: event.CheckpointFailed, Time: at(s), CheckpointID: id, Cause: "Checkpoint aborted: job failover"}
	}
	restart := func(s int) []event.Event {
		return []event.Event{{Kind: event.TaskFailed, Time: at(s), Cause: "boom"},
			{Kind: event.JobStatusChanged, Time: at(s), Status: "RESTARTING", PrevStatus: "RUNNING"},
			{Kind: event.JobStatusChanged, Time: at(s + 1), Status: "RUNNING", PrevStatus: "RESTARTING"}}
	}
	started := &cluster.RestoredCheckpoint{ID: 4, Savepoint: true, ExternalPath: "/sp/savepoint-1", RestoreTime: at(0)}
	for _, tc := range []struct {
		name    string
		from    *cluster.RestoredCheckpoint // the job's start
		events  []event.Event
		counts  cluster.CheckpointCounts
		restore *cluster.RestoredCheckpoint
	}{
		{name: "failover restores the latest completed checkpoint",
			events: slices.Concat([]event.Event{trig(1, 1), done(1, 2, "/c/chk-1"), trig(2, 3)}, []event.Event{fail(2, 4)}, restart(4),
				[]event.Event{trig(3, 6), fail(3, 7), trig(4, 8), done(4, 9, "/c/chk-4")}),
			counts:  cluster.CheckpointCounts{Restored: 1, Total: 4, Completed: 2, Failed: 2},
			restore: &cluster.RestoredCheckpoint{ID: 1, ExternalPath: "/c/chk-1", RestoreTime: at(5)}},
		{name: "twice",
			events:  slices.Concat([]event.Event{trig(1, 1), done(1, 2, "/c/chk-1")}, restart(3), []event.Event{trig(2, 5), done(2, 6, "/c/chk-2")}, restart(7)),
			counts:  cluster.CheckpointCounts{Restored: 2, Total: 2, Completed: 2},
			restore: &cluster.RestoredCheckpoint{ID: 2, ExternalPath: "/c/chk-2", RestoreTime: at(8)}},
		{name: "nothing completed: the start's savepoint again", from: started,
			events:  slices.Concat([]event.Event{trig(5, 1)}, []event.Event{fail(5, 2)}, restart(2)),
			counts:  cluster.CheckpointCounts{Restored: 2, Total: 1, Failed: 1},
			restore: &cluster.RestoredCheckpoint{ID: 4, Savepoint: true, ExternalPath: "/sp/savepoint-1", RestoreTime: at(3)}},
		{name: "nothing completed, started empty: restores nothing",
			events: slices.Concat([]event.Event{trig(1, 1), fail(1, 2)}, restart(2)),
			counts: cluster.CheckpointCounts{Total: 1, Failed: 1}},
		{name: "checkpoints not persisted: starts over",
			events: slices.Concat([]event.Event{trig(1, 1), done(1, 2, "")}, restart(3)),
			counts: cluster.CheckpointCounts{Total: 1, Completed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := countsTracker(t)
			if tc.from != nil {
				tr.setRestored(tc.from)
			}
			for _, e := range tc.events {
				tr.observe(e)
			}
			st := tr.stats(at(100))
			if st.Counts != tc.counts {
				t.Errorf("counts %+v, want %+v", st.Counts, tc.counts)
			}
			if fmt.Sprint(st.LatestRestored) != fmt.Sprint(tc.restore) {
				t.Errorf("latest restored %+v, want %+v", st.LatestRestored, tc.restore)
			}
		})
	}
}

// Concurrent savepoints start in any order: the format and type each was
// asked for follow it by its directory once it is written, whether the
// request learns of it before or after the statistics do.
func TestTrackerSavepointFormats(t *testing.T) {
	tr := countsTracker(t)
	t0 := time.UnixMilli(1_700_000_000_000)
	// Asked: 1st NATIVE (into /sp/a), 2nd CANONICAL stop-with-savepoint (into /sp/b).
	tr.expectSavepoint(string(cluster.Native), cluster.TypeSavepoint)
	tr.expectSavepoint(string(cluster.Canonical), cluster.TypeSyncSavepoint)
	// The second starts first.
	tr.observe(event.Event{Kind: event.CheckpointTriggered, Time: t0, CheckpointID: 1, Savepoint: true})
	tr.observe(event.Event{Kind: event.CheckpointTriggered, Time: t0, CheckpointID: 2, Savepoint: true})
	tr.observe(event.Event{Kind: event.CheckpointCompleted, Time: t0, CheckpointID: 1, Savepoint: true, Path: "/sp/b"})
	tr.savepointDone("/sp/b", string(cluster.Canonical), cluster.TypeSyncSavepoint) // after the event
	tr.savepointDone("/sp/a", string(cluster.Native), cluster.TypeSavepoint)        // before it
	tr.observe(event.Event{Kind: event.CheckpointCompleted, Time: t0, CheckpointID: 2, Savepoint: true, Path: "/sp/a"})
	st := tr.stats(t0)
	want := map[int64][2]string{1: {string(cluster.Canonical), cluster.TypeSyncSavepoint}, 2: {string(cluster.Native), cluster.TypeSavepoint}}
	for _, h := range st.History {
		if got := [2]string{h.SavepointFormat, h.Type}; got != want[h.ID] {
			t.Errorf("savepoint %d (%s): %v, want %v", h.ID, h.ExternalPath, got, want[h.ID])
		}
	}
	if st.LatestSavepoint.ID != 2 || st.LatestSavepoint.SavepointFormat != string(cluster.Native) || len(tr.spDone) != 0 {
		t.Errorf("latest savepoint %+v, %d left waiting", st.LatestSavepoint, len(tr.spDone))
	}
}
