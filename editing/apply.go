package editing

import (
	"context"
	"errors"
	"io"

	"github.com/geocommuns/geocommuns/auth"
)

var errNotYet = errors.New("upload: not implemented yet")

func (s *Service) upload(ctx context.Context, who *auth.Identity, id int64, ops []Operation) (*DiffResult, error) {
	if err := requireAuthor(who); err != nil {
		return nil, err
	}
	return nil, errNotYet
}

func (s *Service) single(ctx context.Context, who *auth.Identity, op Operation) (DiffEntry, error) {
	res, err := s.upload(ctx, who, op.Element.Changeset, []Operation{op})
	if err != nil {
		return DiffEntry{}, err
	}
	return res.Entries[0], nil
}

func (s *Service) parseOsmChange(body io.Reader) ([]Operation, error) {
	return nil, errNotYet
}
