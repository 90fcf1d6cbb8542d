package postgres

import "time"

// For the tests of package postgres_test, which can use pgtest (this
// package's own tests cannot: pgtest imports it).

// SetMergePoll lengthens the store's fallback poll, so that only a
// notification can wake its WaitMerge. Call it before any WaitMerge.
func (s *Store) SetMergePoll(d time.Duration) { s.feed.poll = d }

// MergeListenerPID is the server process of the store's listening
// connection, 0 while it has none.
func (s *Store) MergeListenerPID() uint32 { return s.feed.pid.Load() }

// MergeChannel is the notification channel of the dataset in schema.
var MergeChannel = mergeChannel
