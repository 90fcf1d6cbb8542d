package server

import (
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/editing/connectapi"
)

// newEditing is the one editing service the OSM API and the Connect
// services share, so that both apply the same limits. Without it (a
// store that cannot edit) both serve reads only.
func (s *Server) newEditing() *editing.Service {
	edit, err := editing.NewService(s.store, editing.Limits{MaxUploadBytes: s.cfg.MaxUploadBytes,
		MaxXMLElements: s.cfg.MaxXMLElements, MaxTags: s.cfg.MaxTags, MaxRelationMembers: s.cfg.MaxRelationMembers,
		MaxOpenChangesets: max(s.cfg.MaxOpenChangesets, 0)}, s.logger)
	if err != nil {
		s.logger.Error("editing is off: the APIs serve reads only", "err", err)
		return nil
	}
	return edit
}

// registerConnect mounts the Connect services (proto/geocommuns/v1) on
// the server's mux, behind the same middleware as the OSM API, so that
// they see the caller's identity the same way. Their request limit is the
// upload limit: an osmChange too large for the OSM API is too large for
// UploadChanges too.
func (s *Server) registerConnect(edit *editing.Service) {
	connectapi.Register(s.mux, connectapi.Config{
		Reader:       s.store,
		Editing:      edit,
		MaxReadBytes: s.cfg.MaxUploadBytes,
		Logger:       s.logger,
	})
}
