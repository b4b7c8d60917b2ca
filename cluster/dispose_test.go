package cluster

import (
	"context"
	"errors"
	"testing"
)

// refusing is a cluster whose savepoint disposal is rejected at once.
type refusing struct{ Cluster }

func (refusing) DisposeSavepoint(ctx context.Context, path string) (Trigger, error) {
	return Trigger{}, &Error{Kind: ErrNotSupported, Message: "no disposal here"}
}

func TestSavepointDisposal(t *testing.T) {
	tests := []struct {
		name    string
		c       Cluster
		wantNil bool
		wantErr error
	}{
		{"no cluster: the caller deletes by itself", nil, true, nil},
		{"the cluster's refusal is returned", refusing{}, false, ErrNotSupported},
	}
	for _, tt := range tests {
		f := SavepointDisposal(tt.c)
		if (f == nil) != tt.wantNil {
			t.Fatalf("%s: SavepointDisposal nil = %v, want %v", tt.name, f == nil, tt.wantNil)
		}
		if f == nil {
			continue
		}
		if err := f(context.Background(), "/sp/savepoint-aaaaaa-000000000001"); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}
