// Package subscribe serves geocommuns.v1.SyncService/Subscribe: every
// merge after a client's after_seq, in merge_seq order, then new merges
// as they commit. It is served from the outbox table, never from a live
// broadcast raced against a replay (design.md, Known traps): the stream
// reads `merge_seq > last sent ORDER BY merge_seq` until it is caught
// up, then waits for the next merge (storage.ChangeFeed.WaitMerge) and
// reads again. Since merge_seq is gapless and allocated in commit order,
// that gives no gap and no duplicate, across processes too.
package subscribe

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// Source is what Subscribe reads: the outbox, the versions it names, and
// current nodes and ways for the bbox filter. A source that also has
// storage.ChangeFeed's WaitMerge wakes streams as soon as a merge
// commits; any other is polled every PollInterval.
type Source interface {
	changes.VersionReader
	Outbox(ctx context.Context, afterSeq int64, limit int) ([]storage.OutboxEntry, error)
	LastMergeSeq(ctx context.Context) (int64, error)
	CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error)
}

// Config tunes a Server; zero fields take the defaults below.
type Config struct {
	// Batch is how many outbox rows one read takes.
	Batch int
	// MaxLoadVersions bounds the versions one ElementVersions read asks
	// for, so that a batch of large merges does not become one huge read.
	MaxLoadVersions int
	// MarkerEvery is how many merges a filtered stream may skip in a row
	// before it sends a caught_up_to marker, so that a client whose box
	// sees nothing for long still learns where to resume from.
	MarkerEvery int
	// MaxMessageBytes is the largest message sent; a larger merge goes
	// out in parts (MergedChange.part/parts). The default is under gRPC
	// clients' default receive limit (4 MiB).
	MaxMessageBytes int
	// PollInterval is how often a source without WaitMerge is asked for
	// new merges once a stream has caught up.
	PollInterval time.Duration
	// Logger receives failures of the store; nil discards.
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultBatch           = 200
	DefaultMaxLoadVersions = 20_000
	DefaultMarkerEvery     = 100
	DefaultMaxMessageBytes = 4_000_000
	DefaultPollInterval    = 100 * time.Millisecond
)

func (c Config) withDefaults() Config {
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.MaxLoadVersions <= 0 {
		c.MaxLoadVersions = DefaultMaxLoadVersions
	}
	if c.MarkerEvery <= 0 {
		c.MarkerEvery = DefaultMarkerEvery
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Server implements geocommunsv1connect.SyncServiceHandler.
type Server struct {
	source Source
	cfg    Config
	// stopped ends every stream when the process shuts down: a stream
	// has no end of its own, and would hold a graceful shutdown for its
	// whole grace period.
	stopped context.Context
	stop    context.CancelFunc
}

// New serves source's merges.
func New(source Source, cfg Config) *Server {
	stopped, stop := context.WithCancel(context.Background())
	return &Server{source: source, cfg: cfg.withDefaults(), stopped: stopped, stop: stop}
}

// Shutdown ends every stream, now and to come, with Unavailable: clients
// resume from the last merge_seq they received on another process.
func (s *Server) Shutdown() { s.stop() }

var _ geocommunsv1connect.SyncServiceHandler = (*Server)(nil)

// compressMinBytes leaves small messages uncompressed: Connect gzips
// every message a client accepts gzip for by default, and resetting a
// gzip writer costs more than sending a one-element merge as it is
// (replay of single-node merges ran at a sixth of the bare reads).
const compressMinBytes = 1024

// Handler is the Connect handler of SyncService with the options the
// stream needs, and its path prefix; opts come first (the server's read
// limit).
func (s *Server) Handler(opts ...connect.HandlerOption) (string, http.Handler) {
	return geocommunsv1connect.NewSyncServiceHandler(s, append(opts, connect.WithCompressMinBytes(compressMinBytes))...)
}
