package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
)

// natsFlags choose where serve publishes merges and review events.
type natsFlags struct {
	url    string
	listen string
}

func (n *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.url, "nats", "", "publish merges and review events to the NATS (with JetStream) at this `URL` instead of an embedded nats-server storing under --data")
	fs.StringVar(&n.listen, "nats-listen", "", "the `address` on which the embedded nats-server accepts outside clients (default: none, the process only)")
}

// check refuses flags that contradict each other, before anything is
// opened.
func (n *natsFlags) check() error {
	if n.url != "" && n.listen != "" {
		return usageError{msg: "--nats-listen exposes the embedded NATS; with --nats there is none"}
	}
	return nil
}

// runBeside runs srv with the NATS relay beside it, until ctx ends.
func (n *natsFlags) runBeside(ctx context.Context, fs *flag.FlagSet, srv *server.Server, sf storeFlags,
	header osmdata.DocumentHeader, store storage.Store, logger *slog.Logger) error {
	storeDir := filepath.Join(sf.data, "nats")
	dataGiven := false
	fs.Visit(func(f *flag.Flag) { dataGiven = dataGiven || f.Name == "data" })
	if n.url == "" && sf.postgres != "" && !dataGiven {
		// Several processes may serve one PostgreSQL dataset from one
		// directory, and JetStream's files are one server's: each gets
		// a stream of its own, which its relay refills from the outbox
		// after a restart.
		dir, err := os.MkdirTemp("", "geocommuns-nats-")
		if err != nil {
			return fmt.Errorf("embedded NATS: %w", err)
		}
		defer os.RemoveAll(dir)
		storeDir = dir
		logger.Info("embedded NATS stores in a temporary directory: give --data to keep its stream across restarts, or --nats for one stream all processes share", "dir", dir)
	}
	b, err := server.StartBus(server.BusConfig{URL: n.url, Listen: n.listen, StoreDir: storeDir,
		Header: header}, store, logger)
	if err != nil {
		return err
	}
	defer b.Close()
	relayCtx, stopRelay := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { b.Run(relayCtx) })
	err = srv.Run(ctx)
	stopRelay()
	wg.Wait()
	return err
}
