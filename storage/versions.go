package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
)

// IDVersion names one version of an element of a known type.
type IDVersion struct {
	ID      int64
	Version int
}

// VersionsReader is an optional part of a Reader: ElementVersion in bulk,
// for the multi-fetch calls' IDvVERSION items, as cgimap reads them (one
// statement per type, select_historical_nodes and its siblings).
type VersionsReader interface {
	// NamedVersions returns the named versions of elements of type t
	// that exist and are not redacted, sorted by id then version; the
	// others are left out. One statement whatever the number named.
	NamedVersions(ctx context.Context, t osmdata.ElementType, versions []IDVersion) ([]osmdata.Element, error)
}

// ReadNamedVersions reads versions through r's VersionsReader when it has
// one, and one ElementVersion each otherwise (a Reader of tests).
func ReadNamedVersions(ctx context.Context, r Reader, t osmdata.ElementType, versions []IDVersion) ([]osmdata.Element, error) {
	if vr, ok := r.(VersionsReader); ok {
		return vr.NamedVersions(ctx, t, versions)
	}
	var out []osmdata.Element
	for _, v := range versions {
		e, err := r.ElementVersion(ctx, t, v.ID, v.Version)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrRedacted) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s %dv%d: %w", t, v.ID, v.Version, err)
		}
		out = append(out, e)
	}
	return out, nil
}
