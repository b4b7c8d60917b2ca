package catalog

import (
	"testing"
	"time"
)

func TestCatalogSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := c.Put(Job{ID: "a", Name: "first", Status: "RUNNING", Start: t0}); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(Job{ID: "b", Name: "second", Status: "RUNNING", Start: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := c.Update("a", func(j *Job) { j.Status = "FINISHED"; j.Savepoints = append(j.Savepoints, "/sp/savepoint-aaaaaa-1") }); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	jobs, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].ID != "b" || jobs[1].Status != "FINISHED" || len(jobs[1].Savepoints) != 1 {
		t.Fatalf("after reopen: %+v", jobs)
	}
	if _, ok, _ := c.Get("nope"); ok {
		t.Fatal("found a job never stored")
	}
}
