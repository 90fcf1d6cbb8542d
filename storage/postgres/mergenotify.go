package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geocommuns/geocommuns/storage"
)

// mergePoll bounds how late WaitMerge sees a merge whose notification it
// missed: one sent while the listening connection was down.
const mergePoll = time.Second

// Reconnection delays of the listening connection: from the first to the
// last, doubling.
const (
	listenRetryFirst = 100 * time.Millisecond
	listenRetryLast  = 5 * time.Second
)

// mergeChannelPrefix and reviewChannelPrefix begin the names of every
// dataset's merge and review event channels.
const (
	mergeChannelPrefix  = "geocommuns_merge:"
	reviewChannelPrefix = "geocommuns_review:"
)

// mergeChannel is the NOTIFY channel of the dataset in schema. Channels
// belong to the database, not the schema (design.md: parallel tests in
// separate schemas share them), so the name carries the schema. A channel
// is an identifier of at most 63 bytes: a schema name too long for that
// is hashed.
func mergeChannel(schema string) string { return schemaChannel(mergeChannelPrefix, schema) }

// reviewChannel is the NOTIFY channel of the dataset's review events.
func reviewChannel(schema string) string { return schemaChannel(reviewChannelPrefix, schema) }

func schemaChannel(prefix, schema string) string {
	if name := prefix + schema; len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(schema))
	return prefix + hex.EncodeToString(sum[:16])
}

// queueMergeNotify queues the merge's notification. PostgreSQL delivers
// it at commit, to every connection listening then, and drops it on
// rollback.
func queueMergeNotify(b *pgx.Batch, channel string, seq int64) {
	b.Queue(`SELECT pg_notify($1, $2)`, channel, strconv.FormatInt(seq, 10))
}

// mergeListener is a store's one LISTEN connection, a dedicated pgx.Conn
// outside the pool, started by the first WaitMerge or WaitReviewEvent: it
// listens on the merge and the review event channels, wakes the store's
// waiters of the one notified, and reconnects when the connection fails.
// It wakes them all whenever it (re)starts listening, since a merge or an
// event may have committed while nobody listened.
type mergeListener struct {
	channel       string
	reviewChannel string
	config        *pgx.ConnConfig
	signal        storage.MergeSignal
	// reviews wakes WaitReviewEvent.
	reviews storage.MergeSignal
	// poll is mergePoll; tests lengthen it to see notifications alone
	// wake the waiters.
	poll time.Duration

	mu      sync.Mutex
	started bool
	closed  bool
	stop    context.CancelFunc
	done    chan struct{}
	// pid is the server process of the connection listening now, 0
	// while none is; tests kill it.
	pid atomic.Uint32
}

// newMergeListener names the dataset's channel after schema or, for a
// store opened without one, after the schema its tables are in.
func newMergeListener(ctx context.Context, pool *pgxpool.Pool, schema string) (*mergeListener, error) {
	if schema == "" {
		if err := pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
			return nil, fmt.Errorf("name the merge channel: %w", err)
		}
	}
	return &mergeListener{channel: mergeChannel(schema), reviewChannel: reviewChannel(schema),
		config: pool.Config().ConnConfig, poll: mergePoll}, nil
}

// start starts listening unless the store was closed or it listens
// already.
func (l *mergeListener) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.closed {
		return
	}
	l.started = true
	ctx, stop := context.WithCancel(context.Background())
	l.stop, l.done = stop, make(chan struct{})
	go l.run(ctx)
}

// close stops listening and waits until the connection is closed.
func (l *mergeListener) close() {
	l.mu.Lock()
	l.closed = true
	started := l.started
	l.mu.Unlock()
	if started {
		l.stop()
		<-l.done
	}
}

func (l *mergeListener) run(ctx context.Context) {
	defer close(l.done)
	delay := listenRetryFirst
	for {
		listened := l.listen(ctx)
		// Whatever this connection would have delivered next is lost:
		// the waiters read the counters again.
		l.wakeAll()
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = listenRetryFirst
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, listenRetryLast)
	}
}

// listen connects, listens and wakes the waiters on each notification
// until the connection fails or ctx ends. It reports whether it got as
// far as listening.
func (l *mergeListener) listen(ctx context.Context) bool {
	conn, err := pgx.ConnectConfig(ctx, l.config.Copy())
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	for _, channel := range []string{l.channel, l.reviewChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return false
		}
	}
	l.pid.Store(conn.PgConn().PID())
	defer l.pid.Store(0)
	l.wakeAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true
		}
		if n.Channel == l.reviewChannel {
			l.reviews.Notify()
		} else {
			l.signal.Notify()
		}
	}
}

func (l *mergeListener) wakeAll() {
	l.signal.Notify()
	l.reviews.Notify()
}
