package server

import (
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/review/reviewapi"
)

// newReview is the review service the OSM API's discussion calls and
// ReviewService share, under Config.Review (review.DefaultConfig when
// nil). An approval kicks this process's merge job, so an approved
// changeset merges without waiting for the job's poll. Nil, with the
// reason logged, for a store that keeps no reviews.
func (s *Server) newReview() *review.Service {
	store, ok := s.store.(review.Store)
	if !ok {
		s.logger.Error("review is off: the store keeps no review log or decisions; no discussion calls, no ReviewService")
		return nil
	}
	cfg := s.cfg.Review
	if cfg == nil {
		cfg = review.DefaultConfig()
	}
	svc := review.NewService(store, cfg)
	if s.merge != nil {
		svc.OnApprove(s.merge.Kick)
	}
	return svc
}

// registerReview mounts ReviewService beside the other Connect services,
// behind the same authentication middleware.
func (s *Server) registerReview(svc *review.Service) {
	if svc != nil {
		reviewapi.Register(s.mux, svc, 0, s.logger)
	}
}
