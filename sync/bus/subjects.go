package bus

import (
	"fmt"
	"strconv"

	"github.com/geocommuns/geocommuns/osmdata"
)

// DefaultPrefix begins every subject the relay publishes on.
const DefaultPrefix = "geocommuns"

// TileZoom is the zoom of the per-area subjects: at 12 a tile is about
// 10 km wide at the equator, small enough for a city's consumer, few
// enough that a merge fans out to a handful of messages.
const TileZoom = 12

// Subjects names the subjects under one prefix.
type Subjects struct {
	Prefix string
}

func (s Subjects) prefix() string {
	if s.Prefix == "" {
		return DefaultPrefix
	}
	return s.Prefix
}

// Merges is the wildcard of every merge subject, the stream's subject.
func (s Subjects) Merges() string { return s.prefix() + ".merges.>" }

// All carries every merge as protobuf.
func (s Subjects) All() string { return s.prefix() + ".merges.all" }

// OsmChange carries every merge as osmChange XML.
func (s Subjects) OsmChange() string { return s.prefix() + ".merges.osc" }

// Tile carries the part of each merge that touches tile t.
func (s Subjects) Tile(t Tile) string {
	return fmt.Sprintf("%s.merges.tile.%d.%d.%d", s.prefix(), t.Z, t.X, t.Y)
}

// Reviews is the wildcard of every review subject, the review stream's
// subject.
func (s Subjects) Reviews() string { return s.prefix() + ".reviews.>" }

// Review carries the review events of one kind on one changeset: a
// consumer subscribes to one kind (<prefix>.reviews.approved.*) or to
// one changeset's events (<prefix>.reviews.*.<id>).
func (s Subjects) Review(kind osmdata.ReviewEventKind, changeset int64) string {
	return s.prefix() + ".reviews." + string(kind) + "." + strconv.FormatInt(changeset, 10)
}

// Headers of every merge message.
const (
	HeaderMergeSeq = "Geocommuns-Merge-Seq"
	HeaderPart     = "Geocommuns-Part"
	HeaderParts    = "Geocommuns-Parts"
	// HeaderMergeEnd marks the last message the relay publishes for a
	// merge (over all subjects), so that it knows from the stream alone
	// whether it stopped mid-merge.
	HeaderMergeEnd = "Geocommuns-Merge-End"
)

// Headers of every review message.
const (
	// HeaderReviewSeq is the event's seq in the review log, what the
	// review relay resumes after.
	HeaderReviewSeq = "Geocommuns-Review-Seq"
	// HeaderCommentCut marks an event whose comment was cut to fit the
	// server's max payload; the review log keeps all of it.
	HeaderCommentCut = "Geocommuns-Comment-Cut"
)

func msgID(seq int64, kind string, part int) string {
	if kind == "" {
		return strconv.FormatInt(seq, 10) + "-" + strconv.Itoa(part)
	}
	return strconv.FormatInt(seq, 10) + "-" + kind + "-" + strconv.Itoa(part)
}
