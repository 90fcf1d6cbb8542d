package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

var (
	// ErrRedacted answers a read of one redacted version: the version
	// exists but no one may read it (openstreetmap-website answers 403).
	ErrRedacted = errors.New("version redacted")
	// ErrCannotRedactCurrent refuses to redact an element's current
	// version: only historical versions may be redacted, as on
	// openstreetmap.org (its OSM::APICannotRedactError).
	ErrCannotRedactCurrent = errors.New("cannot redact the current version of an element")
)

// Redaction hides one historical version from every read and feed (a
// legal takedown): reads of it answer ErrRedacted, History leaves it
// out, and ElementVersions gives it withheld (Withhold), so that feeds
// keep every merge_seq and replication file but not its content. Only
// administrators' reads (Operations.ElementVersionWithRedacted and
// HistoryWithRedacted) still show it.
type Redaction struct {
	Version VersionKey
	// RedactionID is the operator's reference of the takedown (OSM's
	// redaction id); 0 when there is none.
	RedactionID int64
	Reason      string
	AdminID     int64
	CreatedAt   time.Time
}

// AuditEntry is one action of an administrator on the dataset
// (redaction, unredaction, account deletion), written in the transaction
// that does it and never changed after.
type AuditEntry struct {
	ID      int64
	AdminID int64
	// Action is one of the Audit* constants.
	Action string
	// Target names what the action touched: "node/5/2", "user/12".
	Target    string
	Reason    string
	CreatedAt time.Time
}

// Audit actions.
const (
	AuditRedact        = "redact"
	AuditUnredact      = "unredact"
	AuditDeleteAccount = "delete_account"
)

// RedactionTarget is how an audit entry names a redacted version.
func RedactionTarget(v VersionKey) string {
	return fmt.Sprintf("%s/%d/%d", v.Element.Type, v.Element.ID, v.Version)
}

// AccountTarget is how an audit entry names an account.
func AccountTarget(uid int64) string { return fmt.Sprintf("user/%d", uid) }

// Pseudonym is the display name a deleted account's history shows, as
// openstreetmap.org renames a deleted user (User#soft_destroy!).
func Pseudonym(uid int64) string { return fmt.Sprintf("user_%d", uid) }

// Operations is what administrators do to the dataset besides editing:
// redactions and account deletion, each one transaction with its audit
// entry.
type Operations interface {
	// Redact hides a historical version. ErrNotFound when the version
	// does not exist, ErrCannotRedactCurrent when it is the current one.
	// Redacting a redacted version replaces its reference and reason.
	Redact(ctx context.Context, r Redaction) (Redaction, error)
	// Unredact shows a redacted version again; ErrNotFound when it is
	// not redacted.
	Unredact(ctx context.Context, v VersionKey, adminID int64, reason string) error
	// Redactions returns the redactions of versions of these elements,
	// by element in the order given, then by version.
	Redactions(ctx context.Context, elements []osmdata.Key) ([]Redaction, error)
	// ElementVersionWithRedacted is ElementVersion for an administrator
	// deciding whether to unredact (openstreetmap-website's
	// show_redactions for moderators): a redacted version comes whole,
	// as it was before the redaction; ErrNotFound when it does not exist.
	// The element's Redacted stays false, since osmdata gives that field
	// to withheld content and this content is not withheld: Redactions
	// says which versions are redacted.
	ElementVersionWithRedacted(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error)
	// HistoryWithRedacted is History with the redacted versions in their
	// place, whole (as ElementVersionWithRedacted gives them).
	HistoryWithRedacted(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error)
	// DeleteAccount pseudonymizes an account: its display name becomes
	// Pseudonym(uid) on the user, every version, changeset and pending
	// change it made (uids stay, so history stays whole); its password,
	// role, API tokens, OAuth grants and web sessions go, so it can no
	// longer sign in. ErrNotFound when uid has no account.
	DeleteAccount(ctx context.Context, uid, adminID int64, reason string) (Account, error)
	// AdminAudit returns the audit entries with ids above afterID, oldest
	// first, at most limit of them.
	AdminAudit(ctx context.Context, afterID int64, limit int) ([]AuditEntry, error)
}

// ReplicationRewriter lets the replication feed serve files cut before a
// redaction without the redacted content: Redact and Unredact count, on
// every stored file whose merges wrote or replaced the version, a pending
// rendering; the feed renders such a file again from the outbox (where
// ElementVersions now withholds the version) before serving it.
type ReplicationRewriter interface {
	// ReplicationRedactionsPending returns file seq's count of
	// redactions not yet rendered (0: its content is current), or
	// ErrNotFound.
	ReplicationRedactionsPending(ctx context.Context, seq int64) (int, error)
	// RewriteReplicationFile replaces file seq's content and clears its
	// count, if the count is still pending (a redaction since makes the
	// rewrite a no-op, and the next read renders again).
	RewriteReplicationFile(ctx context.Context, seq int64, pending int, oscGzip []byte) error
}

// Withhold is what a feed gives of a redacted version: its identity and
// metadata (so each merge keeps its changes and numbering) without tags,
// coordinates, way nodes or members.
func Withhold(e *osmdata.Element) {
	e.Redacted = true
	e.Tags, e.Nodes, e.Members = nil, nil, nil
	e.Lat, e.Lon = 0, 0
}

// ParseRedactionTarget reads a version as RedactionTarget writes it:
// "node/5/2", "way/10/1", "relation/3/4".
func ParseRedactionTarget(s string) (VersionKey, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return VersionKey{}, fmt.Errorf("%q is not TYPE/ID/VERSION (node/5/2)", s)
	}
	t, err := osmdata.ParseElementType(parts[0])
	if err != nil {
		return VersionKey{}, fmt.Errorf("%q: %w", s, err)
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return VersionKey{}, fmt.Errorf("%q: the id must be a positive integer", s)
	}
	v, err := strconv.Atoi(parts[2])
	if err != nil || v <= 0 {
		return VersionKey{}, fmt.Errorf("%q: the version must be a positive integer", s)
	}
	return VersionKey{Element: osmdata.Key{Type: t, ID: id}, Version: v}, nil
}

// ErrNotAdmin refuses an administrative action to an account that is
// not an administrator.
var ErrNotAdmin = errors.New("not an administrator")

// AdminAccount returns the account named name when it is an
// administrator: the one an audit entry names.
func AdminAccount(ctx context.Context, a Accounts, name string) (Account, error) {
	acc, err := a.AccountByName(ctx, name)
	if err != nil {
		return Account{}, err
	}
	if acc.Role != "admin" {
		return Account{}, fmt.Errorf("%s is a %s: %w", acc.DisplayName, acc.Role, ErrNotAdmin)
	}
	return acc, nil
}
