package server

import (
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/review/webapp"
)

// WebappConfig is what the review web app (/review/) shows beside the
// changesets.
type WebappConfig struct {
	// Basemap is a raster tile URL template ({z}/{x}/{y}); empty draws
	// no basemap, and the pages need nothing outside the server.
	Basemap string
	// Attribution is the basemap's credit, shown on the map.
	Attribution string
}

// registerWebapp mounts the review web app at /review/ over the review
// service that ReviewService uses. Its session cookie authorizes its own
// routes only: the authentication middleware in front of the OSM API and
// Connect never reads cookies (design.md).
func (s *Server) registerWebapp(svc *review.Service) {
	store, ok := s.store.(review.Store)
	if svc == nil || !ok {
		return
	}
	cfg := s.cfg.Review
	if cfg == nil {
		cfg = review.DefaultConfig()
	}
	webapp.New(webapp.Config{
		Service:       svc,
		Store:         store,
		Review:        cfg,
		Basemap:       s.cfg.Webapp.Basemap,
		Attribution:   s.cfg.Webapp.Attribution,
		SecureCookies: s.cfg.OAuth.SecureCookies,
		Logger:        s.logger,
	}).Register(s.mux)
}
