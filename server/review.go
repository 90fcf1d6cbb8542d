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

// reviewPolicy is the merge job's policy when Config.Policy is nil: the
// Gate under Config.Review when a review configuration is given (it
// validates each submission and records the scopes reviewers approve),
// review.TrustedAuthors otherwise. Without the Gate no scopes are
// recorded, so only admins can decide on a queued changeset: reviewers
// need a configuration. serve checks the configuration's rules before
// it starts, so a refusal here is logged and trusted authors still
// merge.
func (s *Server) reviewPolicy() review.Policy {
	store, ok := s.store.(review.Store)
	if s.cfg.Review == nil || !ok {
		return review.TrustedAuthors{}
	}
	gate, err := review.NewGate(store, s.cfg.Review)
	if err != nil {
		s.logger.Error("review policy is off: the configuration's rules are refused; trusted contributors' changesets merge, the rest wait", "err", err)
		return review.TrustedAuthors{}
	}
	return gate
}

// registerReview mounts ReviewService beside the other Connect services,
// behind the same authentication middleware.
func (s *Server) registerReview(svc *review.Service) {
	if svc != nil {
		reviewapi.Register(s.mux, svc, 0, s.logger)
	}
}
