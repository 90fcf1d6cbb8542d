package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

func runServe(ctx context.Context, e *env, args []string) error {
	var (
		sf         storeFlags
		hf         headerFlags
		lf         logFlags
		listen     string
		demo       bool
		demoFile   string
		timeout    time.Duration
		sweep      time.Duration
		poll       time.Duration
		maxBody    int64
		cutEvery   time.Duration
		nf         natsFlags
		readOnly   bool
		reviewFile string
		wf         webappFlags
		rf         rateLimitFlags
		limits     limitFlags
		cf         corsFlags
	)
	fs := newFlagSet(e, "serve", "",
		"Serves the OSM API 0.6 as openstreetmap.org's cgimap does, the Connect services, /healthz,\n"+
			"/readyz and Prometheus /metrics, over HTTP/1.1 and h2c on one listener, until SIGINT or\n"+
			"SIGTERM. Closing changesets submits them; those of trusted contributors merge at once.\n"+
			"Several processes may serve one PostgreSQL dataset.")
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "the TCP `address` to serve on")
	sf.register(fs)
	fs.BoolVar(&demo, "demo", false, "import the Andorra extract first if the dataset is empty")
	fs.StringVar(&demoFile, "demo-file", "", "the `file` --demo imports (default: andorra-latest.osm.bz2 of the github.com/paulmach/osm module)")
	fs.DurationVar(&timeout, "request-timeout", server.DefaultRequestTimeout, "how long one request may take")
	fs.Int64Var(&maxBody, "max-upload-bytes", editing.DefaultMaxUploadBytes, "the most `bytes` a request body may hold after decompression (OSM API uploads and Connect messages); more is answered 413")
	fs.DurationVar(&sweep, "sweep-period", editing.DefaultSweepPeriod, "how often to close changesets that are due (idle, old or full)")
	fs.DurationVar(&cutEvery, "replication-interval", replication.DefaultInterval, "how often the OSM replication feed (/replication/minute/) gets a file of the merges since the last; 0 cuts one file per merge")
	fs.DurationVar(&poll, "merge-poll", review.DefaultMergePoll, "how often to look for changesets to merge that another process submitted or approved, or left when it stopped")
	fs.BoolVar(&readOnly, "read-only", false, "serve the read API only, as for a copy kept by 'geocommuns mirror': no editing, merges, replication feed, Subscribe or NATS; writes to the OSM API answer 405")
	fs.StringVar(&reviewFile, "review-config", "", "the review configuration `file` (YAML: validation rules, policy, scopes; see review.example.yaml): submissions are validated and queued for the reviewers it names. Without it, every rule runs at its default, trusted contributors' clean changesets merge by themselves and any reviewer reviews the rest")
	nf.register(fs)
	wf.register(fs)
	rf.register(fs)
	limits.register(fs)
	cf.register(fs)
	hf.register(fs)
	lf.register(fs)
	if err := parseFlags(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{msg: "serve takes no arguments"}
	}
	if cutEvery < 0 {
		return usageError{msg: "--replication-interval cannot be negative (0 cuts one file per merge)"}
	}
	if err := nf.check(); err != nil {
		return err
	}
	if err := wf.check(); err != nil {
		return err
	}
	if err := rf.check(); err != nil {
		return err
	}
	if err := limits.check(); err != nil {
		return err
	}
	if err := cf.check(); err != nil {
		return err
	}
	logger := lf.logger(e.stderr)
	// Without a file the review runs on the defaults: every rule, one
	// approval by any reviewer, trusted contributors' clean changesets
	// merging by themselves.
	reviewConfig := review.DefaultConfig()
	if reviewFile != "" {
		c, err := review.LoadConfig(reviewFile)
		if err != nil {
			return err
		}
		// The Gate decodes the rules section: refuse a bad one now rather
		// than serve without the policy the file asks for.
		if _, err := review.NewGate(nil, c); err != nil {
			return fmt.Errorf("review configuration %s: %w", reviewFile, err)
		}
		reviewConfig = c
	}

	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	logger.Info("dataset open", "store", sf.describe())

	if demo {
		if err := loadDemo(ctx, e, logger, store, demoFile); err != nil {
			return err
		}
	}
	cfg := server.Config{Listen: listen, Header: hf.header, RequestTimeout: timeout, MaxUploadBytes: maxBody,
		SweepPeriod: sweep, MergePoll: poll, ReplicationInterval: replicationInterval(cutEvery), ReadOnly: readOnly, Review: reviewConfig,
		Webapp: wf.config(), WriteRate: rf.perMinute, WriteBurst: rf.burst, CORS: cf.policy}
	limits.apply(&cfg)
	srv := server.New(cfg, store, logger)
	if readOnly {
		// The copy has no outbox of its own: a bus would carry nothing.
		return srv.Run(ctx)
	}
	return nf.runBeside(ctx, fs, srv, sf, hf.header, store, logger)
}

// loadDemo imports the demo extract into an empty dataset, and leaves a
// dataset that has anything alone.
func loadDemo(ctx context.Context, e *env, logger *slog.Logger, store storage.Store, file string) error {
	counts, err := store.Counts(ctx)
	if err != nil {
		return fmt.Errorf("demo: count the dataset: %w", err)
	}
	if n := counts.Nodes + counts.Ways + counts.Relations; n > 0 || counts.Versions > 0 || counts.Users > 0 || counts.Changesets > 0 {
		logger.Info("demo: the dataset is not empty, nothing imported",
			"nodes", counts.Nodes, "ways", counts.Ways, "relations", counts.Relations, "users", counts.Users, "changesets", counts.Changesets)
		return nil
	}
	if file == "" {
		dir, err := osmfile.ModuleTestdata()
		if err != nil {
			return fmt.Errorf("demo: find the Andorra extract (or give --demo-file): %w", err)
		}
		file = filepath.Join(dir, "testdata", "andorra-latest.osm.bz2")
	}
	logger.Info("demo: importing into the empty dataset", "file", file)
	start := time.Now()
	res, err := importFiles(ctx, e, store, []string{file})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	logger.Info("demo: "+importSummary(res, 1, time.Since(start)), "file", file)
	return nil
}

// replicationInterval maps the flag's 0 (one file per merge) to the
// server's negative, its zero being the default.
func replicationInterval(flag time.Duration) time.Duration {
	if flag == 0 {
		return -1
	}
	return flag
}
