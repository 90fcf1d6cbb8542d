package server

import (
	"net/http"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// registerSync mounts SyncService (the Subscribe stream of merges) when
// the store has a change feed; its streams end when the server shuts
// down, so that they do not hold the graceful shutdown for its whole
// grace period. Subscribe's request is small, but every Connect handler
// gets a read limit: Connect's default is none.
func (s *Server) registerSync() {
	source, ok := s.store.(subscribe.Source)
	if !ok {
		s.logger.Warn("SyncService not served: the store has no change feed (storage.ChangeFeed)")
		return
	}
	maxRead := s.cfg.MaxUploadBytes
	if maxRead <= 0 {
		maxRead = editing.DefaultMaxUploadBytes
	}
	s.subscribe = subscribe.New(source, subscribe.Config{Logger: s.logger})
	_, h := s.subscribe.Handler(connect.WithReadMaxBytes(int(maxRead)))
	s.mux.Handle(geocommunsv1connect.SyncServiceSubscribeProcedure, h)
}

// isStream tells the routes that stream for as long as the client
// listens, which the per-request deadline must not cut.
func isStream(r *http.Request) bool {
	return r.URL.Path == geocommunsv1connect.SyncServiceSubscribeProcedure
}

// stopStreams ends the Subscribe streams; http.Server calls it when a
// shutdown begins.
func (s *Server) stopStreams() {
	if s.subscribe != nil {
		s.subscribe.Shutdown()
	}
}
