package webapp

import (
	"github.com/geocommuns/geocommuns/osmdata"
)

// GeoJSON (RFC 7946) of elements, as the map draws them.

type feature struct {
	Type       string            `json:"type"`
	Geometry   *geometry         `json:"geometry"`
	Properties featureProperties `json:"properties"`
}

type featureProperties struct {
	Key     string            `json:"key"`
	Version int               `json:"version"`
	Tags    map[string]string `json:"tags"`
	Side    string            `json:"side"`
}

type featureCollection struct {
	Type     string     `json:"type"`
	Features []*feature `json:"features"`
	// Truncated says the context was cut at its cap (a foreign member,
	// which RFC 7946 allows).
	Truncated bool `json:"truncated,omitempty"`
}

type geometry struct {
	Type        string      `json:"type"`
	Coordinates any         `json:"coordinates,omitempty"`
	Geometries  []*geometry `json:"geometries,omitempty"`
}

type position [2]float64

// The sides of a change a feature shows.
const (
	sideOld     = "old"
	sideNew     = "new"
	sideCurrent = "current"
	sideContext = "context"
)

// positions finds where the nodes and ways an element uses were on one
// side of the change.
type positions interface {
	node(id int64) (*osmdata.Element, bool)
	way(id int64) (*osmdata.Element, bool)
}

func featureOf(e *osmdata.Element, side string, at positions) *feature {
	if e == nil {
		return nil
	}
	tags := make(map[string]string, len(e.Tags))
	for _, t := range e.Tags {
		tags[t.Key] = t.Value
	}
	return &feature{
		Type:       "Feature",
		Geometry:   geometryOf(e, at, true),
		Properties: featureProperties{Key: keyString(e.Key()), Version: e.Version, Tags: tags, Side: side},
	}
}

// geometryOf is a node's Point, a way's LineString (a Polygon when it is
// a closed area), a relation's GeometryCollection of its node and way
// members (one level: members that are relations are left out); nil
// when nothing of it can be placed.
func geometryOf(e *osmdata.Element, at positions, withMembers bool) *geometry {
	if e.Redacted {
		return nil // its position and nodes are withheld (storage.Withhold)
	}
	switch e.Type {
	case osmdata.Node:
		return &geometry{Type: "Point", Coordinates: pointOf(e)}
	case osmdata.Way:
		return wayGeometry(e, at)
	case osmdata.Relation:
		if !withMembers {
			return nil
		}
		var parts []*geometry
		for _, m := range e.Members {
			var g *geometry
			switch m.Type {
			case osmdata.Node:
				if n, ok := at.node(m.Ref); ok {
					g = geometryOf(n, at, false)
				}
			case osmdata.Way:
				if w, ok := at.way(m.Ref); ok {
					g = wayGeometry(w, at)
				}
			}
			if g != nil {
				parts = append(parts, g)
			}
		}
		if len(parts) == 0 {
			return nil
		}
		return &geometry{Type: "GeometryCollection", Geometries: parts}
	}
	return nil
}

func pointOf(n *osmdata.Element) position {
	return position{osmdata.FixedToDegrees(n.Lon), osmdata.FixedToDegrees(n.Lat)}
}

func wayGeometry(w *osmdata.Element, at positions) *geometry {
	line := make([]position, 0, len(w.Nodes))
	for _, id := range w.Nodes {
		if n, ok := at.node(id); ok {
			line = append(line, pointOf(n))
		}
	}
	if len(line) < 2 {
		return nil
	}
	closed := len(w.Nodes) >= 4 && w.Nodes[0] == w.Nodes[len(w.Nodes)-1] && len(line) == len(w.Nodes)
	if closed && isArea(w.Tags) {
		return &geometry{Type: "Polygon", Coordinates: [][]position{line}}
	}
	return &geometry{Type: "LineString", Coordinates: line}
}

// areaKeys make a closed way an area unless area=no says otherwise (the
// common part of iD's and osm2pgsql's lists).
var areaKeys = map[string]bool{
	"building": true, "landuse": true, "leisure": true, "amenity": true, "natural": true,
	"place": true, "shop": true, "tourism": true, "man_made": true, "historic": true,
	"military": true, "boundary": true, "aeroway": true, "office": true, "craft": true,
	"area:highway": true, "building:part": true, "water": true, "wetland": true, "parking": true,
}

// linearValues are the values of area keys that stay lines when closed.
var linearValues = map[string]bool{
	"natural=coastline": true, "natural=cliff": true, "natural=ridge": true, "natural=tree_row": true,
	"man_made=embankment": true, "man_made=pipeline": true, "barrier=fence": true,
}

func isArea(tags osmdata.Tags) bool {
	if v, ok := tags.Get("area"); ok {
		return v != "no"
	}
	for _, t := range tags {
		if areaKeys[t.Key] && t.Value != "no" && !linearValues[t.Key+"="+t.Value] {
			return true
		}
	}
	return false
}
