package server

import (
	"github.com/geocommuns/geocommuns/editing/osmapi"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// registerReplication serves the OSM replication feed under
// /replication/minute/ and the dump consumers start from under
// /replication/dump/, and returns the cutter that writes it, which
// startJobs runs; nil when the store keeps no feed. storage.Replication
// and storage.ChangeFeed are not part of storage.Store yet, hence the
// type assertions: both backends implement them.
func (s *Server) registerReplication() *replication.Cutter {
	store, ok := s.store.(replication.Store)
	if !ok {
		s.logger.Warn("replication feed not served: the store keeps no replication files or has no change feed (storage.Replication, storage.ChangeFeed)")
		return nil
	}
	header := s.cfg.Header
	if header == (osmdata.DocumentHeader{}) {
		header = osmapi.DefaultHeader
	}
	feed := &replication.Handler{Store: store, Header: header, Logger: s.logger}
	if dataset, ok := s.store.(replication.DumpSource); ok {
		feed.Dataset = dataset
	}
	feed.Register(s.mux)
	interval := s.cfg.ReplicationInterval
	switch {
	case interval == 0:
		interval = replication.DefaultInterval
	case interval < 0:
		interval = 0 // one file per merge
	}
	return replication.NewCutter(store, replication.CutterConfig{Interval: interval, Header: header}, s.logger)
}
