// Package storagetest is the conformance suite every storage backend must
// pass, in the manner of riverqueue/river's riverdrivertest: one set of
// behaviours, run unchanged against PostgreSQL and SQLite. Each assertion
// is one a user of the OSM API would make (a history, a map call, an
// export), written against storage.Store only.
//
// A backend's test file calls three entry points:
//
//	func TestConformance(t *testing.T)     { storagetest.Run(t, open) }
//	func TestNegativeControl(t *testing.T) { storagetest.RunNegativeControl(t, open) }
//	func TestMapAgreement(t *testing.T)    { storagetest.RunMapAgreement(t, open) }
//
// where open returns a new, empty store private to the test.
//
// Run's subtests each open their own store, so they run in parallel.
// Its Changesets and Staging parts cover storage.Editing: the changeset
// lifecycle on the database's clock, the sweeper racing itself, uploads
// (ids, replace semantics, rollback, one author at a time) and the
// author's overlay as changesets stack, are rejected and merged. Its Merge
// part covers storage.Merger (skipped for a store without it): final
// versions at the merge time, the outbox, conflicts and their reports,
// stacked chains, and concurrent merges keeping merge_seq gapless. Its
// MergeQueue part covers storage.MergeQueue: every submission undecided
// until one decision, racing deciders, and the order of both lists. Its
// ReviewLog part covers storage.ReviewLog: the event of every move of a
// review state, numbered gaplessly in commit order across failed writes
// and concurrent writers, each changeset's log, and the wake-up. Its
// Reviews part covers storage.Reviews: scoped approvals and distinct
// approvers, self-review, requested changes, rejection and withdrawal
// with their events, every queue filter, escalation and subscriptions.
// Tests of closing times need changesets opened hours ago: a store that
// implements Backdater (both backends) runs them, another skips them.
//
// BenchmarkStaging, called from a backend's benchmark, stages a
// 10,000-element upload of Andorra creates beside the backend's plain
// insert of the same rows (PendingBaseliner).
//
// RunNegativeControl shows that the suite can fail. It re-executes the
// test binary (os.Args[0]) with -test.run selecting the calling test and
// the suite's parts the faults touch (History, NodesInBox, Map,
// Rollback/ApplyVersionConflict, Concurrency/ReadsSeeAllOrNothing,
// Staging/Rollback, Staging/Overlay), once
// per fault with GEOCOMMUNS_STORAGETEST_FAULT naming it. In that child,
// RunNegativeControl calls Run, which wraps every opened store in the
// faulty decorator:
//
//   - drop-last-history: History loses the newest version;
//   - exclusive-edges: NodesInBox leaves out nodes on the box's edges;
//   - non-atomic-apply: Apply writes a batch one element at a time;
//   - non-atomic-stage: Stage commits what fn wrote before its error;
//   - exclusive-pending-edges: PendingNodesInBox leaves out nodes on the
//     box's edges.
//
// The parent asserts that each faulty child exits non-zero and names the
// subtests expected to fail, and that a child without a fault passes the
// same parts, so the control itself is sound. Run honours the variable
// too, to watch a fault by hand:
//
//	GEOCOMMUNS_STORAGETEST_FAULT=exclusive-edges go test ./storage/sqlite/ -run 'TestConformance/NodesInBox' -v
//
// RunMapAgreement (skipped under -short) imports delaware-latest.osm.pbf,
// andorra-latest.osm.bz2 and osmgeojson/testdata/benchmark.osm from
// paulmach/osm's test data into one store through osmfile.OpenAll, then
// compares storage.Map with an independent implementation of cgimap's
// steps computed from the files themselves, on benchmark.osm's own
// <bounds> (where the answer must be benchmark.osm, openstreetmap.org's
// reply to that map call) and on random boxes. The seed is fixed and
// printed; GEOCOMMUNS_MAPAGREEMENT_SEED overrides it.
package storagetest

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
)

// Opener returns a new, empty, migrated store that is private to the test
// and removed by t.Cleanup.
type Opener func(t *testing.T) storage.Store

// Run runs every conformance test against the backend that open creates.
func Run(t *testing.T, open Opener) {
	t.Helper()
	open = withFaultFromEnv(t, open)

	t.Run("History", func(t *testing.T) { t.Parallel(); testHistory(t, open) })
	t.Run("NodesInBox", func(t *testing.T) { t.Parallel(); testNodesInBox(t, open) })
	t.Run("Map", func(t *testing.T) { t.Parallel(); testMap(t, open) })
	t.Run("Import", func(t *testing.T) { t.Parallel(); testImport(t, open) })
	t.Run("Rollback", func(t *testing.T) { t.Parallel(); testRollback(t, open) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); testConcurrency(t, open) })
	t.Run("Indexes", func(t *testing.T) { t.Parallel(); testIndexes(t, open) })
	t.Run("Export", func(t *testing.T) { t.Parallel(); testExport(t, open) })
	t.Run("Changesets", func(t *testing.T) { t.Parallel(); testChangesets(t, open) })
	t.Run("Staging", func(t *testing.T) { t.Parallel(); testStaging(t, open) })
	t.Run("Merge", func(t *testing.T) { t.Parallel(); testMerge(t, open) })
	t.Run("MergedVersions", func(t *testing.T) { t.Parallel(); testMergedVersions(t, open) })
	t.Run("MergeQueue", func(t *testing.T) { t.Parallel(); testMergeQueue(t, open) })
	t.Run("ChangeFeed", func(t *testing.T) { t.Parallel(); testChangeFeed(t, open) })
	t.Run("ReviewLog", func(t *testing.T) { t.Parallel(); testReviewLog(t, open) })
	t.Run("AuthorStats", func(t *testing.T) { t.Parallel(); testAuthorStats(t, open) })
	t.Run("Reviews", func(t *testing.T) { t.Parallel(); testReviews(t, open) })
	t.Run("Rebase", func(t *testing.T) { t.Parallel(); testRebase(t, open) })
	t.Run("Split", func(t *testing.T) { t.Parallel(); testSplit(t, open) })
	t.Run("Redactions", func(t *testing.T) { t.Parallel(); testRedactions(t, open) })
	t.Run("DeleteAccount", func(t *testing.T) { t.Parallel(); testDeleteAccount(t, open) })
}
