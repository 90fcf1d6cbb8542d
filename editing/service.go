// Package editing is geocommuns' editing semantics, shared by the OSM
// API 0.6 handlers (editing/osmapi) and the Connect services
// (editing/connectapi): changesets, uploads staged as pending changes
// with design.md's version resolution and stacking, the author's overlay
// on reads, and the auto-close sweeper.
//
// Every method takes the caller's identity explicitly (nil for an
// anonymous caller) rather than reading it from the context, so that both
// transports decide where it comes from. Every failure a client should see
// is an *Error carrying cgimap's status and text (errors.go); anything
// else is a failing store.
package editing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmchange"
	"github.com/geocommuns/geocommuns/storage"
)

// Limits are the editing limits; zero fields take openstreetmap.org's.
type Limits struct {
	// MaxWayNodes is the most nodes a way may have (2,000).
	MaxWayNodes int
	// MaxRelationMembers is the most members a relation may have (32,000).
	MaxRelationMembers int
	// MaxChangesetChanges is the most changes one changeset may hold
	// (storage.MaxChangesetChanges, 10,000).
	MaxChangesetChanges int
	// MaxUploadBytes is the largest upload body after decompression
	// (DefaultMaxUploadBytes). The HTTP and Connect layers also bound the
	// compressed body by it.
	MaxUploadBytes int64
	// MaxTags is the most tags an element may have
	// (osmchange.DefaultMaxTags).
	MaxTags int
	// MaxXMLElements is the most XML elements one request body may hold
	// (osmchange.DefaultMaxElements).
	MaxXMLElements int
	// MaxOpenChangesets is the most changesets one user may have open at
	// once; zero means no limit, as on openstreetmap.org (the server
	// sets DefaultMaxOpenChangesets).
	MaxOpenChangesets int
}

// Defaults of Limits: openstreetmap.org's (config/settings.yml,
// app/models/changeset.rb) and cgimap's payload limit.
const (
	DefaultMaxWayNodes        = 2000
	DefaultMaxRelationMembers = 32000
	DefaultMaxUploadBytes     = 50 << 20
	// DefaultMaxOpenChangesets: openstreetmap.org has no such limit. An
	// editor keeps one or two open; changesets close after an hour idle,
	// so even a busy bot or a mapping party sharing one account stays far
	// below, while a runaway script is stopped before it floods review.
	DefaultMaxOpenChangesets = 100
	// MaxStringLength is the most characters a tag key or value, a role,
	// or a changeset tag may have.
	MaxStringLength = 255
)

func (l Limits) withDefaults() Limits {
	if l.MaxWayNodes <= 0 {
		l.MaxWayNodes = DefaultMaxWayNodes
	}
	if l.MaxRelationMembers <= 0 {
		l.MaxRelationMembers = DefaultMaxRelationMembers
	}
	if l.MaxChangesetChanges <= 0 {
		l.MaxChangesetChanges = storage.MaxChangesetChanges
	}
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if l.MaxTags <= 0 {
		l.MaxTags = osmchange.DefaultMaxTags
	}
	if l.MaxXMLElements <= 0 {
		l.MaxXMLElements = osmchange.DefaultMaxElements
	}
	return l
}

// Service is the editing API over one store. It is safe for concurrent
// use; it keeps no state between calls beyond its configuration, so any
// number of processes may serve the same PostgreSQL store.
type Service struct {
	store   storage.Store
	editing storage.Editing
	limits  Limits
	logger  *slog.Logger
	// submitted is called after a close commits a submission.
	submitted func()
}

// ErrNoEditing: the store does not implement storage.Editing.
var ErrNoEditing = errors.New("the store does not support editing")

// NewService returns the editing service of store, which must implement
// storage.Editing. A nil logger discards.
func NewService(store storage.Store, limits Limits, logger *slog.Logger) (*Service, error) {
	// Type-asserted until storage.Store embeds storage.Editing.
	ed, ok := any(store).(storage.Editing)
	if !ok {
		return nil, ErrNoEditing
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, editing: ed, limits: limits.withDefaults(), logger: logger}, nil
}

// OnSubmit registers fn, called after each close that submits a
// changeset commits (explicit closes and this service's sweeper), so that
// the merge job starts at once instead of at its next poll. Call it
// before serving; fn must not block.
func (s *Service) OnSubmit(fn func()) { s.submitted = fn }

func (s *Service) notifySubmitted() {
	if s.submitted != nil {
		s.submitted()
	}
}

// Limits returns the limits in force, defaults filled in.
func (s *Service) Limits() Limits { return s.limits }

// Store is the store the service edits.
func (s *Service) Store() storage.Store { return s.store }

// CreateChangeset opens a changeset for who with tags (PUT
// /api/0.6/changeset/create).
func (s *Service) CreateChangeset(ctx context.Context, who *auth.Identity, tags osmdata.Tags) (osmdata.Changeset, error) {
	if err := requireAuthor(who); err != nil {
		return osmdata.Changeset{}, err
	}
	if err := checkChangesetTags(tags); err != nil {
		return osmdata.Changeset{}, err
	}
	if err := s.checkOpenChangesets(ctx, who); err != nil {
		return osmdata.Changeset{}, err
	}
	cs, err := s.editing.CreateChangeset(ctx, storage.NewChangeset{UID: who.UserID, User: who.DisplayName, Tags: tags})
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("create changeset: %w", err)
	}
	return cs, nil
}

// UpdateChangeset replaces the tags of an open changeset of who (PUT
// /api/0.6/changeset/ID) and returns it.
func (s *Service) UpdateChangeset(ctx context.Context, who *auth.Identity, id int64, tags osmdata.Tags) (osmdata.Changeset, error) {
	if err := requireAuthor(who); err != nil {
		return osmdata.Changeset{}, err
	}
	if err := checkChangesetTags(tags); err != nil {
		return osmdata.Changeset{}, err
	}
	cs, err := s.editing.UpdateChangesetTags(ctx, id, who.UserID, tags)
	if err != nil {
		return osmdata.Changeset{}, s.changesetError(ctx, id, err)
	}
	return cs, nil
}

// CloseChangeset closes an open changeset of who and submits it for
// review (PUT /api/0.6/changeset/ID/close).
func (s *Service) CloseChangeset(ctx context.Context, who *auth.Identity, id int64) (osmdata.Changeset, error) {
	if err := requireAuthor(who); err != nil {
		return osmdata.Changeset{}, err
	}
	cs, err := s.editing.CloseChangeset(ctx, id, who.UserID)
	if err != nil {
		return osmdata.Changeset{}, s.changesetError(ctx, id, err)
	}
	s.notifySubmitted()
	return cs, nil
}

// Changeset returns one changeset, or an *Error with status 404.
func (s *Service) Changeset(ctx context.Context, id int64) (osmdata.Changeset, error) {
	cs, err := s.store.Changeset(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return osmdata.Changeset{}, newError(ErrChangesetNotFound, nil, id)
	}
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("read changeset %d: %w", id, err)
	}
	return cs, nil
}

// Changesets answers GET /api/0.6/changesets, newest first; a zero Limit
// means OSM's default of 100.
func (s *Service) Changesets(ctx context.Context, q storage.ChangesetQuery) ([]osmdata.Changeset, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultChangesetQueryLimit
	}
	list, err := s.editing.Changesets(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query changesets: %w", err)
	}
	return list, nil
}

// DefaultChangesetQueryLimit and MaxChangesetQueryLimit are
// openstreetmap.org's limits on GET /api/0.6/changesets.
const (
	DefaultChangesetQueryLimit = 100
	MaxChangesetQueryLimit     = 100
)

// Download returns what a changeset changed, one change per element
// (its net effect, design.md), in staging order (GET
// /api/0.6/changeset/ID/download). It is an *Error with status 404 for
// an unknown changeset.
func (s *Service) Download(ctx context.Context, id int64) ([]storage.PendingChange, error) {
	if _, err := s.Changeset(ctx, id); err != nil {
		return nil, err
	}
	changes, err := s.editing.ChangesetChanges(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read changes of changeset %d: %w", id, err)
	}
	return changes, nil
}

// Parents returns the changesets that changeset id builds on (stacking).
func (s *Service) Parents(ctx context.Context, id int64) ([]int64, error) {
	p, err := s.editing.ChangesetParents(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read parents of changeset %d: %w", id, err)
	}
	return p, nil
}

// CheckWriter refuses a write by an anonymous caller (401) or by a
// credential that does not grant write_api (cgimap
// validate_user_db_update_permission). Every write of the service checks
// it; the HTTP layer calls it too, before reading a request body.
func CheckWriter(who *auth.Identity) error {
	if who == nil || who.UserID == 0 {
		return newError(ErrUnauthorized, nil)
	}
	if !who.HasScope(ScopeWriteAPI) {
		return newError(ErrNoWritePermission, nil)
	}
	return nil
}

// ScopeWriteAPI is the OSM permission to edit the map.
const ScopeWriteAPI = "write_api"

func requireAuthor(who *auth.Identity) error { return CheckWriter(who) }

// changesetError turns the store's refusal of a changeset call into the
// answer cgimap gives.
func (s *Service) changesetError(ctx context.Context, id int64, err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return newError(ErrChangesetNotFound, nil, id)
	case errors.Is(err, storage.ErrNotOwner):
		return newError(ErrChangesetNotOwner, nil)
	case errors.Is(err, storage.ErrChangesetClosed):
		cs, rerr := s.store.Changeset(ctx, id)
		if rerr != nil {
			return fmt.Errorf("changeset %d closed; reading its closing time: %w", id, rerr)
		}
		return closedError(cs)
	}
	return fmt.Errorf("changeset %d: %w", id, err)
}
