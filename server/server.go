// Package server wires geocommuns' HTTP side: one ServeMux for every
// route (the OSM API, health, readiness, metrics), request logs and
// metrics by route pattern, per-request deadlines, HTTP/1.1 and
// unencrypted HTTP/2 (h2c, for Connect and gRPC) on one listener, and a
// graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geocommuns/geocommuns/auth/oauth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/editing/osmapi"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// Config is how the server runs. Zero durations take the defaults below.
type Config struct {
	// Listen is the TCP address, "127.0.0.1:8080" for example; port 0
	// picks a free port, which the "listening" log line reports.
	Listen string
	// Header is what documents say about themselves (generator,
	// copyright, attribution, licence); zero means osmapi.DefaultHeader.
	Header osmdata.DocumentHeader
	// RequestTimeout bounds each request: its context (so reads of the
	// store stop) and its writes. There is deliberately no server-wide
	// WriteTimeout: it would cut long streams and large map replies
	// short whatever their handler allows (design.md).
	RequestTimeout time.Duration
	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout bounds reading a request's body, from the end of
	// its headers: a client trickling an upload is cut off with 408 (see
	// bodytimeout.go). Streams are not bounded by it.
	BodyReadTimeout time.Duration
	// IdleTimeout closes keep-alive connections left idle.
	IdleTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may run on after
	// the context of Run is cancelled.
	ShutdownTimeout time.Duration
	// OAuth configures the OAuth 2 authorization server (/oauth2/);
	// zero fields take its defaults.
	OAuth oauth.Config
	// MaxUploadBytes bounds what a client may send: OSM API request
	// bodies, compressed and after decompression, and Connect request
	// messages alike. Zero means editing.DefaultMaxUploadBytes (50 MB).
	MaxUploadBytes int64
	// MaxInflateRatio bounds how many times its compressed size an OSM
	// API request body may inflate to (osmapi.DefaultMaxInflateRatio when
	// zero): a gzip bomb is refused 413 long before MaxUploadBytes.
	MaxInflateRatio int
	// MaxXMLElements, MaxTags and MaxRelationMembers bound what one
	// request body holds (XML elements in all, tags of one element,
	// members of one relation); zero takes editing.Limits' defaults.
	// Capabilities announce MaxRelationMembers.
	MaxXMLElements     int
	MaxTags            int
	MaxRelationMembers int
	// MaxOpenChangesets is the most changesets one user may have open at
	// once (editing.DefaultMaxOpenChangesets when zero, no limit when
	// negative); past it creating one is answered 429.
	MaxOpenChangesets int
	// SweepPeriod is how often due changesets are closed
	// (editing.DefaultSweepPeriod when zero).
	SweepPeriod time.Duration
	// MergePoll is how often the merge job looks for work this process
	// was not told about (review.DefaultMergePoll when zero).
	MergePoll time.Duration
	// Policy decides which submissions merge without a reviewer;
	// review.TrustedAuthors when nil.
	Policy review.Policy
	// Review is the review configuration (rules, policy, scopes): when
	// set, and Policy is nil, the Gate under it decides on submissions;
	// ReviewService and the discussion calls use it, or
	// review.DefaultConfig when nil.
	Review *review.Config
	// ReplicationInterval is how often the OSM replication feed gets a
	// file of the merges since the last (replication.DefaultInterval when
	// zero); negative cuts one file per merge.
	ReplicationInterval time.Duration
	// ReadOnly serves the read API only (a mirror's copy): no editing
	// routes, merge job or replication cutter; see readonly.go.
	ReadOnly bool
	// Webapp configures the review web app's map (/review/).
	Webapp WebappConfig
	// WriteRate is how many writes a minute one user may make (OSM API
	// PUT/POST/DELETE, Connect write procedures), WriteBurst how many at
	// once; over it a write is answered 429 (see ratelimit.go). Zero in
	// either means no limit. Each process counts its own writes.
	WriteRate  int
	WriteBurst int
	// CORS is which web origins may call the OSM API and exchange OAuth 2
	// tokens from a browser; the zero policy allows none (no CORS
	// headers, preflights refused). The review web app is same-origin
	// and needs none.
	CORS osmapi.CORSPolicy
}

// Defaults of Config.
const (
	DefaultRequestTimeout    = osmapi.DefaultTimeout
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultBodyReadTimeout lets a 50 MB upload through at 3.5 Mbit/s;
	// editors' uploads of 10,000 changes are a few MB.
	DefaultBodyReadTimeout = 2 * time.Minute
	DefaultIdleTimeout     = 2 * time.Minute
	DefaultShutdownTimeout = 30 * time.Second
)

func (c Config) withDefaults() Config {
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.MaxOpenChangesets == 0 {
		c.MaxOpenChangesets = editing.DefaultMaxOpenChangesets
	}
	if c.BodyReadTimeout <= 0 {
		c.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	return c
}

// Server serves one store.
type Server struct {
	cfg     Config
	store   storage.Store
	logger  *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	// edit is nil for a store that cannot edit.
	edit  *editing.Service
	merge *review.MergeJob
	// cutter writes the replication feed; nil for a store without one.
	cutter *replication.Cutter
	// subscribe is nil for a store without a change feed.
	subscribe *subscribe.Server
}

// New builds the server and its routes; Run starts it.
func New(cfg Config, store storage.Store, logger *slog.Logger) *Server {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, store: store, logger: logger, mux: http.NewServeMux()}

	if cfg.ReadOnly {
		s.registerReadOnly()
	} else {
		edit := s.newEditing()
		s.edit = edit
		s.merge = s.newMergeJob(edit)
		rev := s.newReview()
		api := &osmapi.API{Reader: store, Editing: edit, Review: rev, Header: cfg.Header, Timeout: cfg.RequestTimeout,
			MaxInflateRatio: cfg.MaxInflateRatio, Logger: logger}
		api.Register(s.mux)
		s.registerConnect(edit)
		s.registerReview(rev)
		s.registerWebapp(rev)
		s.cutter = s.registerReplication()
		s.registerSync()
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)

	registry := prometheus.NewRegistry()
	metrics := newMetrics(registry)
	s.mux.Handle("GET /metrics", metrics.handler(registry))

	// observe reads the pattern the mux records on the request it is
	// handed (the authentication middleware between them passes it
	// back). Credentials are checked below observe, so that rejected
	// requests are logged and counted too.
	withAuth := s.registerAuth()
	s.handler = s.cfg.CORS.Handler(s.withDeadline(s.observe(metrics, withAuth(s.limitWrites(s.mux)))))
	if cfg.ReadOnly {
		s.handler = refuseWrites(s.handler)
	}
	return s
}

// Handler is the server's whole HTTP side, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Mux is the one ServeMux of the server, for later issues to register
// their routes on.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Run listens on Config.Listen and serves until ctx is cancelled, then
// shuts down gracefully. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish for up to
// ShutdownTimeout, then closes what is left.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		Protocols:         new(http.Protocols),
	}
	// One listener for HTTP/1.1 and h2c with prior knowledge, which
	// Connect and gRPC clients speak. net/http serves h2c itself since Go
	// 1.24; golang.org/x/net/http2/h2c is deprecated in its favour, and
	// its hijacked connections escape Shutdown.
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	srv.RegisterOnShutdown(s.stopStreams)

	// The jobs stop after the requests have: a close answered during the
	// grace period still kicks the merge job.
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	waitJobs := s.startJobs(jobsCtx)
	defer func() { stopJobs(); waitJobs() }()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.logger.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", "grace", s.cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.Join(fmt.Errorf("requests still running after %s: %w", s.cfg.ShutdownTimeout, err), srv.Close())
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.logger.Info("stopped")
	return nil
}

// withDeadline bounds each request by RequestTimeout: the context stops
// the store's reads, the write deadline a client that stops reading; and
// its body by BodyReadTimeout.
func (s *Server) withDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		// Not every ResponseWriter supports deadlines; the context still
		// bounds the work then.
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
		r = s.withBodyDeadline(rc, r)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// healthz says the process is alive and serving; it touches nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprintln(w, "ok")
}

// readyTimeout bounds the readiness probe's read of the store.
const readyTimeout = 2 * time.Second

// readyz says the store answers. The probe is a primary-key read of one
// node, the cheapest statement that goes through the same read path as
// the API on both backends (a count would scan tables).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if _, err := s.store.CurrentElements(ctx, osmdata.Node, []int64{1}); err != nil {
		s.logger.Warn("not ready: the store does not answer", "err", err)
		// A load balancer takes the process out until the database is
		// back; the process itself stays up and recovers on its own.
		w.Header().Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
		w.WriteHeader(http.StatusServiceUnavailable)
		if storage.IsUnavailable(err) {
			fmt.Fprintln(w, "the store does not answer: database unavailable")
		} else {
			fmt.Fprintln(w, "the store does not answer")
		}
		return
	}
	fmt.Fprintln(w, "ready")
}
