package storage

import (
	"context"
	"errors"

	"github.com/geocommuns/geocommuns/osmdata"
)

// ErrMergeApplied refuses ApplyMirrored of a merge at or below the
// mirror's position: applying it again would double it.
var ErrMergeApplied = errors.New("merge already applied")

// Mirror is a dataset kept as a read-only copy of another (geocommuns
// mirror). Both backends implement it; callers type-assert a Store, since
// a dataset that is not a mirror never needs it.
type Mirror interface {
	// MirrorPosition returns the recorded position, ok false when the
	// dataset has never started mirroring.
	MirrorPosition(ctx context.Context) (pos MirrorPosition, ok bool, err error)
	// BeginMirror records, before the import of a dump of source that
	// matches mergeSeq, that the import is under way (Imported false). It
	// replaces a position whose import never finished, and refuses one
	// that did.
	BeginMirror(ctx context.Context, source string, mergeSeq int64) error
	// MirrorImported marks the dump's import done.
	MirrorImported(ctx context.Context) error
	// ApplyMirrored appends a merge's versions (as Apply) and records
	// mergeSeq as the position, in one transaction. A mergeSeq at or
	// below the position is refused with ErrMergeApplied and nothing is
	// written.
	ApplyMirrored(ctx context.Context, mergeSeq int64, versions []osmdata.Element) error
}

// MirrorPosition is how far a mirror has copied its source.
type MirrorPosition struct {
	Source string
	// MergeSeq is the source's last merge whose versions the mirror
	// holds.
	MergeSeq int64
	// Imported is false while the initial dump is being imported.
	Imported bool
}
