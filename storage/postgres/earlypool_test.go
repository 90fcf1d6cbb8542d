package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geocommuns/geocommuns/osmdata"
)

// TestEarlyWorkWithEveryConnectionInTransactions is the deadlock the load
// bench found: uploads' transactions held every connection of the pool,
// each waiting for its upload's early work (ids, current versions), which
// waited for a connection. The early work must get one while the
// transactions hold them all.
func TestEarlyWorkWithEveryConnectionInTransactions(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	held := make([]*pgxpool.Conn, 0, s.pool.Config().MaxConns)
	t.Cleanup(func() {
		for _, c := range held {
			c.Release()
		}
	})
	for range s.pool.Config().MaxConns {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if _, err := held[0].Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}

	// A guard against hanging the test run: a connection comes at once or
	// never.
	guard, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ids, err := s.AllocateIDs(guard, osmdata.Node, 3)
	if err != nil || len(ids) != 3 {
		t.Fatalf("AllocateIDs with every connection of the pool held: %v, %v", ids, err)
	}
	states, err := s.CurrentStates(guard, osmdata.Node, ids)
	if err != nil || len(states) != 0 {
		t.Fatalf("CurrentStates with every connection of the pool held: %v, %v (want no states of ids never used)", states, err)
	}
}
