// Package bus publishes every merge and every review event to NATS
// JetStream: an embedded nats-server (files under the data directory) or
// an existing cluster, one stream holding the merge subjects and the
// relay that copies the outbox into it after each merge commits, and a
// stream of the review subjects with the review relay copying the review
// log into it the same way.
//
// Subjects (Prefix defaults to "geocommuns"):
//
//	geocommuns.merges.all          every merge, a protobuf geocommuns.v1.MergedChange (augmented diff)
//	geocommuns.merges.osc          every merge as osmChange XML
//	geocommuns.merges.tile.Z.X.Y   the part of a merge touching one slippy-map tile at zoom TileZoom, protobuf
//	geocommuns.reviews.KIND.ID     a review event of kind KIND on changeset ID, a protobuf geocommuns.v1.ReviewEvent
//
// Every message carries the headers Geocommuns-Merge-Seq, Geocommuns-Part
// and Geocommuns-Parts (and the last of a merge's messages over all
// subjects Geocommuns-Merge-End): a change larger than the connection's max payload
// is split into parts numbered from 1, never dropped; a consumer joins
// them by merge_seq. Nats-Msg-Id is "<merge_seq>-<part>" on the all
// subject ("<merge_seq>-osc-<part>", "<merge_seq>-tile-Z-X-Y" on the
// others), so JetStream drops a message the relay publishes twice.
//
// The relay never makes a merge wait: merges write the outbox, the relay
// reads it after commit. On start and after any outage it resumes from
// the stream's last message, not from memory, since JetStream's dedup
// window (2 minutes) cannot cover a longer outage. It pipelines its
// publishes, each expecting the stream's last sequence to be its
// predecessor's (Nats-Expected-Last-Sequence), so the stream never
// stores a message past a gap, nor one of a relay whose view of the
// stream is stale; a refusal makes it resume again.
//
// The review stream (DefaultReviewStream) numbers its messages by the
// review log's seq: one message per event, header Geocommuns-Review-Seq,
// Nats-Msg-Id "review-<seq>". Its relay shares the merge relay's loop,
// publisher and election, with a lease of its own.
//
// One relay publishes at a time: with an external NATS, processes
// sharing a PostgreSQL dataset elect it through a session advisory lock
// (storage/postgres's LeadRelay); an embedded server's stream is its own
// process's, filled by that process's relay.
package bus
