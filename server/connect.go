package server

import (
	"errors"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/editing/connectapi"
)

// registerConnect mounts the Connect services (proto/geocommuns/v1) on
// the server's mux, behind the same middleware as the OSM API, so that
// they see the caller's identity the same way. A store without editing
// serves MapService alone.
func (s *Server) registerConnect() {
	edit, err := editing.NewService(s.store, editing.Limits{}, s.logger)
	if err != nil {
		if !errors.Is(err, editing.ErrNoEditing) {
			s.logger.Error("the Connect changeset service is off", "err", err)
		}
		edit = nil
	}
	connectapi.Register(s.mux, connectapi.Config{Reader: s.store, Editing: edit, Logger: s.logger})
}
