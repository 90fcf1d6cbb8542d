package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/geocommuns/geocommuns/editing/osmapi"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/bus"
)

// BusConfig says where merges and review events are published.
type BusConfig struct {
	// URL names an existing NATS (with JetStream) to publish to; empty
	// runs an embedded nats-server.
	URL string
	// Listen exposes the embedded server to outside clients
	// ("host:port"); empty keeps it inside the process.
	Listen string
	// StoreDir holds the embedded server's JetStream files.
	StoreDir string
	// Stream, ReviewStream and Subjects default to bus.DefaultStream,
	// bus.DefaultReviewStream and bus.DefaultPrefix.
	Stream       string
	ReviewStream string
	Subjects     bus.Subjects
	// Header is what osmChange messages say about themselves.
	Header osmdata.DocumentHeader
}

// Bus is the process's NATS side: the embedded server, if any, the
// relay publishing merges to their stream and the one publishing review
// events to theirs.
type Bus struct {
	embedded    *bus.Embedded
	conn        *nats.Conn
	relay       *bus.Relay
	reviewRelay *bus.ReviewRelay
	logger      *slog.Logger
}

// StartBus starts the embedded server (unless cfg.URL names one) and
// prepares the relay; Run relays, Close stops everything.
func StartBus(cfg BusConfig, store storage.Store, logger *slog.Logger) (*Bus, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Header == (osmdata.DocumentHeader{}) {
		cfg.Header = osmapi.DefaultHeader
	}
	b := &Bus{logger: logger}
	// Publishes fail at once while disconnected instead of queuing in
	// the client: the relay then starts over from the stream's last
	// message, which a queued publish flushed later could contradict.
	opts := []nats.Option{nats.MaxReconnects(-1), nats.ReconnectBufSize(-1), nats.Name("geocommuns relay")}
	var elect, electReviews bus.Elect
	if cfg.URL == "" {
		e, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: cfg.StoreDir, Listen: cfg.Listen})
		if err != nil {
			return nil, err
		}
		b.embedded = e
		if u := e.ClientURL(); u != "" {
			logger.Info("embedded NATS listening", "url", u, "store", cfg.StoreDir)
		} else {
			logger.Info("embedded NATS running inside the process", "store", cfg.StoreDir)
		}
		// Each process's embedded server has a stream of its own, which
		// its own relay fills: no election.
		conn, err := e.Connect(opts...)
		if err != nil {
			e.Shutdown()
			return nil, err
		}
		b.conn = conn
	} else {
		conn, err := nats.Connect(cfg.URL, append(opts, nats.RetryOnFailedConnect(true))...)
		if err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", cfg.URL, err)
		}
		b.conn = conn
		// Processes sharing a PostgreSQL dataset share this stream: one
		// relay at a time.
		if l, ok := store.(interface {
			LeadRelay(context.Context) (bus.Lease, error)
			LeadReviewRelay(context.Context) (bus.Lease, error)
		}); ok {
			elect, electReviews = l.LeadRelay, l.LeadReviewRelay
		}
	}
	relay, err := bus.NewRelay(store, bus.RelayConfig{Conn: b.conn, Stream: cfg.Stream, Subjects: cfg.Subjects,
		Header: cfg.Header, Elect: elect, Logger: logger})
	if err != nil {
		b.Close()
		return nil, err
	}
	b.relay = relay
	reviewRelay, err := bus.NewReviewRelay(store, bus.RelayConfig{Conn: b.conn, Stream: cfg.ReviewStream,
		Subjects: cfg.Subjects, Elect: electReviews, Logger: logger})
	if err != nil {
		b.Close()
		return nil, err
	}
	b.reviewRelay = reviewRelay
	return b, nil
}

// Run relays merges and review events until ctx ends.
func (b *Bus) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { b.reviewRelay.Run(ctx) })
	err := b.relay.Run(ctx)
	wg.Wait()
	return err
}

// ClientURL is where outside clients reach the embedded server; empty
// when it does not listen or NATS is external.
func (b *Bus) ClientURL() string {
	if b.embedded == nil {
		return ""
	}
	return b.embedded.ClientURL()
}

// Close closes the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.conn != nil {
		b.conn.Close()
	}
	if b.embedded != nil {
		b.embedded.Shutdown()
	}
}
