package replication

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// DefaultInterval is how often the cutter writes a file, as planet's
// minutely feed does.
const DefaultInterval = time.Minute

// Bounds of one file. A cutter that was down (or a feed started on a
// dataset with a long outbox) catches up in several files rather than in
// one holding everything; a single merge larger than the bounds still
// makes one file.
const (
	DefaultMaxMerges   = 1000
	DefaultMaxElements = 100_000
)

// Store is what the cutter reads and writes: the outbox, the versions
// merges wrote, and the stored files.
type Store interface {
	Outbox(ctx context.Context, afterSeq int64, limit int) ([]storage.OutboxEntry, error)
	storage.ChangeFeed
	storage.Replication
}

// CutterConfig says how the cutter cuts. Zero fields take the defaults,
// except Interval: zero cuts one file per merge.
type CutterConfig struct {
	// Interval is how often the merges since the last file become the
	// next file; zero cuts a file as soon as each merge commits.
	Interval time.Duration
	// MaxMerges and MaxElements bound one file (a single merge above
	// MaxElements still makes one file).
	MaxMerges, MaxElements int
	// Header is what each osmChange document says about itself.
	Header osmdata.DocumentHeader
}

// Cutter writes the replication files. Every server process runs one;
// only the one holding the store's replication lease cuts.
type Cutter struct {
	store  Store
	cfg    CutterConfig
	logger *slog.Logger
}

// NewCutter returns a cutter of store's feed.
func NewCutter(store Store, cfg CutterConfig, logger *slog.Logger) *Cutter {
	if cfg.MaxMerges <= 0 {
		cfg.MaxMerges = DefaultMaxMerges
	}
	if cfg.MaxElements <= 0 {
		cfg.MaxElements = DefaultMaxElements
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 0
		cfg.MaxMerges = 1
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Cutter{store: store, cfg: cfg, logger: logger}
}

// Cut writes the next file from the merges after the latest file's, and
// returns its state; false when there is no merge to write. It is one
// step of the job, for tests and tools: two cutters racing for the same
// number are refused by the store (storage.ErrReplicationSeq), never both
// stored.
func (c *Cutter) Cut(ctx context.Context) (storage.ReplicationState, bool, error) {
	latest, err := c.store.LatestReplicationState(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.ReplicationState{}, false, fmt.Errorf("cut a replication file: %w", err)
	}
	entries, err := c.store.Outbox(ctx, latest.LastMergeSeq, c.cfg.MaxMerges)
	if err != nil {
		return storage.ReplicationState{}, false, fmt.Errorf("cut replication file %d: %w", latest.Seq+1, err)
	}
	if len(entries) == 0 {
		return storage.ReplicationState{}, false, nil
	}
	entries = c.bound(entries)
	if entries[0].Seq != latest.LastMergeSeq+1 {
		// The outbox is gapless; a hole means rows are missing, and a
		// file over it would silently lose those merges.
		return storage.ReplicationState{}, false, fmt.Errorf("cut replication file %d: the outbox continues at merge %d, not %d",
			latest.Seq+1, entries[0].Seq, latest.LastMergeSeq+1)
	}
	last := entries[len(entries)-1]
	f := storage.ReplicationFile{ReplicationState: storage.ReplicationState{
		Seq:           latest.Seq + 1,
		FirstMergeSeq: entries[0].Seq,
		LastMergeSeq:  last.Seq,
		Timestamp:     last.MergedAt.UTC().Truncate(time.Second),
	}}
	f.OsmChangeGzip, err = c.encode(ctx, entries)
	if err != nil {
		return storage.ReplicationState{}, false, fmt.Errorf("cut replication file %d: %w", f.Seq, err)
	}
	if err := c.store.AddReplicationFile(ctx, f); err != nil {
		return storage.ReplicationState{}, false, fmt.Errorf("cut replication file %d: %w", f.Seq, err)
	}
	return f.ReplicationState, true, nil
}

// bound keeps the merges that fit in one file, the first one always.
func (c *Cutter) bound(entries []storage.OutboxEntry) []storage.OutboxEntry {
	n := 0
	for i, e := range entries {
		n += len(e.Versions)
		if i > 0 && n > c.cfg.MaxElements {
			return entries[:i]
		}
	}
	return entries
}

// encode writes the merges' osmChange, gzipped.
func (c *Cutter) encode(ctx context.Context, entries []storage.OutboxEntry) ([]byte, error) {
	return encodeMerges(ctx, c.store, c.cfg.Header, entries)
}

// encodeMerges writes the merges' osmChange, gzipped: the cutter's
// files, and the same files rendered again after a redaction. The gzip
// header has no name and no time, so the bytes depend on the merges
// alone.
func encodeMerges(ctx context.Context, store Store, header osmdata.DocumentHeader, entries []storage.OutboxEntry) ([]byte, error) {
	merges, err := changes.Load(ctx, store, entries)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := changes.WriteOsmChange(zw, header, merges...); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}
