package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/geocommuns/geocommuns/sync/mirror"
)

func runMirror(ctx context.Context, e *env, args []string) error {
	var (
		sf         storeFlags
		lf         logFlags
		from       string
		minBackoff time.Duration
		maxBackoff time.Duration
	)
	fs := newFlagSet(e, "mirror", "",
		"Keeps a read-only copy of a geocommuns dataset up to date until SIGINT or SIGTERM: an empty\n"+
			"dataset starts from the source's dump (/replication/dump/latest.osm.gz), then every merge\n"+
			"arrives through SyncService/Subscribe and is applied exactly once, with the copy's position\n"+
			"in the same transaction, so a crash loses or doubles nothing and a restart resumes.\n"+
			"Serve the copy with 'geocommuns serve --read-only'.")
	fs.StringVar(&from, "from", "", "the base `URL` of the source's 'geocommuns serve', http://host:8080 for example")
	sf.register(fs)
	fs.DurationVar(&minBackoff, "min-backoff", mirror.DefaultMinBackoff, "the first wait before reconnecting to a source that is away; it doubles on each failure")
	fs.DurationVar(&maxBackoff, "max-backoff", mirror.DefaultMaxBackoff, "the longest wait before reconnecting")
	lf.register(fs)
	if err := parseFlags(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{msg: "mirror takes no arguments"}
	}
	if from == "" {
		return usageError{msg: "--from is required: the source's URL"}
	}
	if u, err := url.Parse(from); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{msg: fmt.Sprintf("--from %q is not an http:// or https:// URL", from)}
	}
	if minBackoff <= 0 || maxBackoff < minBackoff {
		return usageError{msg: "--min-backoff must be positive and at most --max-backoff"}
	}
	logger := lf.logger(e.stderr)

	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	logger.Info("dataset open", "store", sf.describe())
	return mirror.Run(ctx, store, mirror.Config{Source: from, Logger: logger, MinBackoff: minBackoff, MaxBackoff: maxBackoff})
}
