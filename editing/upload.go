package editing

import (
	"context"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Operation is one create, modify or delete of an upload, as an osmChange
// document or a Connect request states it.
type Operation struct {
	Action storage.Action
	// IfUnused is osmChange's <delete if-unused="true">: a delete of an
	// element still used (or already deleted) is skipped instead of
	// failing the upload.
	IfUnused bool
	// Element is the element as the client wrote it: a negative ID is a
	// placeholder (creates must use one; later operations may cite it
	// after its create), Version is the version the change is based on
	// (ignored for creates), Changeset must be the upload's changeset.
	// Way nodes and relation members may cite placeholders.
	Element osmdata.Element
}

// DiffEntry is one line of a diffResult, in input order. A create or
// modify is written with old_id, new_id and new_version. A delete is
// written with old_id only, although NewID and NewVersion are filled in
// (the single-element DELETE answers NewVersion). A delete Skipped under
// if-unused is written with old_id, new_id and new_version, the version
// the element keeps, as cgimap answers it.
type DiffEntry struct {
	Type       osmdata.ElementType
	Action     storage.Action
	OldID      int64
	NewID      int64
	NewVersion int
	Skipped    bool
}

// DiffResult is the answer to an upload.
type DiffResult struct {
	Entries []DiffEntry
	// Changeset is the changeset after the upload (counts, box, closing
	// time).
	Changeset osmdata.Changeset
}

// Upload stages ops in changeset id for who, in one transaction: all of
// them or none, with cgimap's semantics and design.md's version resolution
// and stacking (apply.go).
func (s *Service) Upload(ctx context.Context, who *auth.Identity, id int64, ops []Operation) (*DiffResult, error) {
	res, err := s.upload(ctx, who, id, ops)
	return s.submitIfFull(ctx, res, err)
}

// CreateElement stages one create (PUT /api/0.6/{type}/create): e's ID is
// ignored, e.Changeset names the changeset. It returns the new id.
func (s *Service) CreateElement(ctx context.Context, who *auth.Identity, e osmdata.Element) (int64, error) {
	e.ID = -1
	res, err := s.single(ctx, who, Operation{Action: storage.Create, Element: e})
	if err != nil {
		return 0, err
	}
	return res.NewID, nil
}

// ModifyElement stages one modify (PUT /api/0.6/{type}/ID) and returns
// the new provisional version.
func (s *Service) ModifyElement(ctx context.Context, who *auth.Identity, e osmdata.Element) (int, error) {
	res, err := s.single(ctx, who, Operation{Action: storage.Modify, Element: e})
	if err != nil {
		return 0, err
	}
	return res.NewVersion, nil
}

// DeleteElement stages one delete (DELETE /api/0.6/{type}/ID; e carries
// the id, the cited version and the changeset) and returns the new
// provisional version of the deleted element.
func (s *Service) DeleteElement(ctx context.Context, who *auth.Identity, e osmdata.Element) (int, error) {
	res, err := s.single(ctx, who, Operation{Action: storage.Delete, Element: e})
	if err != nil {
		return 0, err
	}
	return res.NewVersion, nil
}
