package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func fixture(t *testing.T, name string) *snapshot.Metadata {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink", name)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared fixtures: %v", err)
	}
	m, err := snapshot.Read(context.Background(), storage.NewLocal(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func operator(t *testing.T, m *snapshot.Metadata, id string) *snapshot.OperatorState {
	for _, op := range m.Operators {
		if op.ID.String() == id {
			return op
		}
	}
	t.Fatalf("no operator %s", id)
	return nil
}

// The Flink fixtures whose state is inline in _metadata decode to the
// values their test job wrote (new-stateful-udf-migration-itcase: keys
// 0..3, each with itself as value).
func TestFixtureEntries(t *testing.T) {
	for _, name := range []string{
		"new-stateful-udf-migration-itcase-flink1.9-rocksdb-savepoint",
		"new-stateful-udf-migration-itcase-flink1.10-savepoint",
		"new-stateful-udf-migration-itcase-flink1.11-rocksdb-savepoint",
	} {
		t.Run(name, func(t *testing.T) {
			m := fixture(t, name)
			op := operator(t, m, "d5c8b168c6cbfe8c507a10f88b325243")
			var got []string
			err := ReadKeyed(context.Background(), storage.NewLocal(), m, op, "", func(e Entry) error {
				got = append(got, fmt.Sprintf("%s kg%d %v=%v", e.State, e.KeyGroup, e.Key.(*Record).Fields[0].Value, e.Value))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Key groups by Flink's murmur hash at maxParallelism 4.
			want := map[string]bool{"state-name kg1 3=3": true, "state-name kg2 1=1": true, "state-name kg2 0=0": true, "state-name kg3 2=2": true}
			if len(got) != 4 {
				t.Fatalf("entries %q", got)
			}
			for _, g := range got {
				if !want[g] {
					t.Fatalf("entries %q", got)
				}
			}
		})
	}
}

func TestFixtureSchemas(t *testing.T) {
	m := fixture(t, "operatorstate_complexKeyed-flink1.20")
	var got []string
	for _, s := range ReadSchema(context.Background(), storage.NewLocal(), m) {
		if len(s.Errors) > 0 {
			t.Errorf("%s: %v", s.ID, s.Errors)
		}
		if s.Keyed != nil {
			for _, st := range s.Keyed.States {
				got = append(got, fmt.Sprintf("%s %s %s %s", st.Name, st.Kind(), st.Serializers[RoleNamespace], st.Serializers[RoleValue]))
			}
		}
		if s.Operator != nil {
			for _, st := range s.Operator.States {
				got = append(got, fmt.Sprintf("%s %s %s", st.Name, st.Kind(), st.Serializers[RoleValue]))
			}
		}
	}
	want := `_default_ SPLIT_DISTRIBUTE Java serialization
values LIST VoidNamespace List<Integer>
count REDUCING GlobalWindow Long
window-contents LIST GlobalWindow List<Tuple2<Integer, Integer>>
_timer_state/processing_window-timers TIMERS ? Timer<Tuple1<Integer>, GlobalWindow>
_timer_state/event_window-timers TIMERS ? Timer<Tuple1<Integer>, GlobalWindow>
_default_ SPLIT_DISTRIBUTE Java serialization`
	if strings.Join(got, "\n") != want {
		t.Fatalf("schema:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// Every fixture reads to a schema or to errors that say why: a format
// older than Flink 1.7, a serializer ckpt does not know, or a state file
// the fixture does not ship. Never a panic, never a silent gap.
func TestFixtureSweep(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Skipf("shared fixtures: %v", err)
	}
	read := 0
	for _, e := range ents {
		m, err := snapshot.Read(context.Background(), storage.NewLocal(), filepath.Join(root, e.Name()))
		if err != nil {
			continue
		}
		for _, s := range ReadSchema(context.Background(), storage.NewLocal(), m) {
			if s.Keyed != nil || s.Operator != nil {
				read++
			}
			for _, msg := range s.Errors {
				if !strings.Contains(msg, "unsupported") && !strings.Contains(msg, "no such file") {
					t.Errorf("%s %s: %s", e.Name(), s.ID, msg)
				}
			}
		}
	}
	if read < 10 {
		t.Errorf("only %d operators' state read across the fixtures", read)
	}
}
