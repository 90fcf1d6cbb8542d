package webapp

import (
	"context"
	"errors"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// The context around a changeset: the authoritative data of its bounding
// box grown by a margin, as the map call reads it, without the
// changeset's own elements.
const (
	// maxContextFeatures caps what the page draws as context: enough to
	// see where a change sits, few enough for a browser to draw at once.
	maxContextFeatures = 5000
	// maxContextNodes bounds the map call's first step; a denser box
	// gets no context rather than a slow answer.
	maxContextNodes = 20000
	// contextMargin grows the box by this share of its size on each
	// side, and at least minContextMargin degrees (a single node's box
	// has no size).
	contextMargin    = 0.25
	minContextMargin = 0.0005
)

func emptyCollection() featureCollection {
	return featureCollection{Type: "FeatureCollection", Features: []*feature{}}
}

// contextAround returns the context features of a changeset whose box
// is box; an empty collection when it has none or the area is larger
// than the map call allows.
func contextAround(ctx context.Context, store storage.Reader, box osmdata.Box, exclude map[osmdata.Key]bool) (featureCollection, error) {
	out := emptyCollection()
	grown, ok := grow(box)
	if !ok {
		return out, nil
	}
	data, err := storage.Map(ctx, store, grown, maxContextNodes)
	var tooMany *storage.TooManyNodesError
	if errors.As(err, &tooMany) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("context map call: %w", err)
	}
	at := newLayer(nil)
	for i := range data.Nodes {
		at.add(&data.Nodes[i])
	}
	for i := range data.Ways {
		at.add(&data.Ways[i])
	}
	usedByWays := map[int64]bool{}
	for _, w := range data.Ways {
		for _, id := range w.Nodes {
			usedByWays[id] = true
		}
	}
	push := func(e *osmdata.Element) bool {
		if exclude[e.Key()] {
			return true
		}
		if len(out.Features) == maxContextFeatures {
			out.Truncated = true
			return false
		}
		if f := featureOf(e, sideContext, at); f.Geometry != nil {
			out.Features = append(out.Features, f)
		}
		return true
	}
	// Ways first: they give the shape of the place; then the nodes that
	// stand for something themselves (tagged, or in no way).
	for i := range data.Ways {
		if !push(&data.Ways[i]) {
			return out, nil
		}
	}
	for i := range data.Nodes {
		n := &data.Nodes[i]
		if len(n.Tags) == 0 && usedByWays[n.ID] {
			continue
		}
		if !push(n) {
			return out, nil
		}
	}
	return out, nil
}

// grow widens box by the context margin, clamped to the world; false
// when the result is larger than the map call allows.
func grow(box osmdata.Box) (osmdata.Box, bool) {
	d := osmdata.BoxDegrees{
		MinLon: osmdata.FixedToDegrees(box.MinLon), MinLat: osmdata.FixedToDegrees(box.MinLat),
		MaxLon: osmdata.FixedToDegrees(box.MaxLon), MaxLat: osmdata.FixedToDegrees(box.MaxLat),
	}
	dLon := max((d.MaxLon-d.MinLon)*contextMargin, minContextMargin)
	dLat := max((d.MaxLat-d.MinLat)*contextMargin, minContextMargin)
	d.MinLon, d.MaxLon = max(d.MinLon-dLon, -180), min(d.MaxLon+dLon, 180)
	d.MinLat, d.MaxLat = max(d.MinLat-dLat, -90), min(d.MaxLat+dLat, 90)
	if d.Area() > storage.MaxMapArea {
		return osmdata.Box{}, false
	}
	return d.Fixed(), true
}
