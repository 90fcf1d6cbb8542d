package bus

import (
	"fmt"
	"strconv"
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

// Headers of every message.
const (
	HeaderMergeSeq = "Geocommuns-Merge-Seq"
	HeaderPart     = "Geocommuns-Part"
	HeaderParts    = "Geocommuns-Parts"
	// HeaderMergeEnd marks the last message the relay publishes for a
	// merge (over all subjects), so that it knows from the stream alone
	// whether it stopped mid-merge.
	HeaderMergeEnd = "Geocommuns-Merge-End"
)

func msgID(seq int64, kind string, part int) string {
	if kind == "" {
		return strconv.FormatInt(seq, 10) + "-" + strconv.Itoa(part)
	}
	return strconv.FormatInt(seq, 10) + "-" + kind + "-" + strconv.Itoa(part)
}
