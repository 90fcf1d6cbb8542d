package server

import (
	"context"
	"sync"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/review"
)

// newMergeJob is the process's merge job; the editing service kicks it on
// every submission, so a trusted contributor's changeset merges at once.
func (s *Server) newMergeJob(edit *editing.Service) *review.MergeJob {
	policy := s.cfg.Policy
	if policy == nil {
		policy = s.reviewPolicy()
	}
	job := review.NewMergeJob(s.store, policy, s.cfg.MergePoll, s.logger)
	if edit != nil {
		edit.OnSubmit(job.Kick)
	}
	return job
}

// startJobs runs the process's background work (the auto-close sweeper,
// the merge job, the replication cutter and the purge of ended sign-in
// state) until ctx is done; the returned function waits for them to stop.
func (s *Server) startJobs(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	// A read-only copy signs users in too, so it purges as well.
	wg.Go(func() { s.purgeSignIns(ctx) })
	if s.edit != nil {
		sweeper := s.edit.NewSweeper(s.cfg.SweepPeriod)
		wg.Go(func() { sweeper.Run(ctx) })
	}
	if s.merge != nil {
		wg.Go(func() { s.merge.Run(ctx) })
	}
	if s.cutter != nil {
		wg.Go(func() { s.cutter.Run(ctx) })
	}
	return wg.Wait
}
