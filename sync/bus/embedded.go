package bus

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedConfig is how the in-process nats-server runs.
type EmbeddedConfig struct {
	// StoreDir holds JetStream's files (a directory under the data dir).
	StoreDir string
	// Listen, "host:port", exposes the server to outside clients; empty
	// serves this process only (no TCP listener at all).
	Listen string
}

// embeddedStartTimeout bounds the wait for the server to accept
// connections (JetStream recovers its streams from disk first).
const embeddedStartTimeout = 30 * time.Second

// Embedded is a nats-server with JetStream running in this process.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts the server and waits until it accepts clients.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	opts := &server.Options{
		ServerName: "geocommuns",
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		// The process handles its own signals and logs.
		NoSigs: true,
		NoLog:  true,
	}
	if cfg.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS: listen address %q: %w", cfg.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("embedded NATS: listen address %q: bad port", cfg.Listen)
		}
		if p == 0 {
			// nats-server reads port 0 as "the default port"; -1 is its
			// "pick a free one".
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(embeddedStartTimeout) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS: not ready after %s (store %s)", embeddedStartTimeout, cfg.StoreDir)
	}
	return &Embedded{srv: srv}, nil
}

// Connect opens a client connection inside the process (no TCP).
func (e *Embedded) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(e.srv), nats.Name("geocommuns")}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to the embedded NATS: %w", err)
	}
	return nc, nil
}

// ClientURL is where outside clients connect; empty when the server
// does not listen.
func (e *Embedded) ClientURL() string {
	if e.srv.Addr() == nil {
		return ""
	}
	return e.srv.ClientURL()
}

// Shutdown stops the server and waits until it has.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
