package editing

import "net/http"

// GoldenText is one error reply: cgimap's status and text, and where the
// text was transcribed from (a test of cgimap's or openstreetmap-website's
// suite, or the source line the test exercises), so that a reader can
// check it without running anything of ours. Text may hold fmt verbs.
type GoldenText struct {
	Status int
	Text   string
	Source string
}

// The error kinds of editing. Each has one row in Golden.
const (
	ErrUnauthorized ErrorKind = iota + 1
	ErrChangesetNotFound
	ErrChangesetNotOwner
	ErrChangesetClosed
	ErrChangesetMismatch
	ErrChangesetTooManyChanges
	ErrVersionMismatch
	ErrElementNotFound
	ErrAlreadyDeleted
	ErrNodeStillUsedByWays
	ErrNodeStillUsedByRelations
	ErrWayStillUsedByRelations
	ErrRelationStillUsedByRelations
	ErrWayNodesMissing
	ErrRelationMembersMissing
	ErrPlaceholderNotFound
	ErrPlaceholderDuplicate
	ErrPlaceholderNotNegative
	ErrTooManyWayNodes
	ErrWayWithoutNodes
	ErrTooManyRelationMembers
	ErrKeyTooLong
	ErrValueTooLong
	ErrRoleTooLong
	ErrLatitudeRange
	ErrLongitudeRange
	ErrBadXML
	ErrPayloadTooLarge
)

// Golden is every editing error text. It is filled in golden_texts.go.
var Golden = map[ErrorKind]GoldenText{
	ErrUnauthorized: {Status: http.StatusUnauthorized, Text: "Couldn't authenticate you"},
}
