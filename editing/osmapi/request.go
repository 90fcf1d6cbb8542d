package osmapi

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
)

// This file turns requests into queries, as cgimap's handlers validate a
// request before its responder touches the database. Nothing here reads
// the store.

// format is a response format. A path ending in .json or .xml fixes it;
// otherwise the Accept header chooses (cgimap src/routes.cpp
// resource_mime_type).
type format int

const (
	formatUnspecified format = iota
	formatXML
	formatJSON
	formatAny // only in Accept headers: */*, text/*, *
	formatText
)

func (f format) mimeType() string {
	switch f {
	case formatXML:
		return "application/xml"
	case formatJSON:
		return "application/json"
	case formatText:
		return "text/plain"
	case formatAny:
		return "*/*"
	}
	return ""
}

// availableFormats is what every document endpoint writes, in cgimap's
// order of preference (src/osm_responder.cpp types_available).
var availableFormats = []format{formatXML, formatJSON}

// pathFormat reads the format suffix of a request path.
func pathFormat(path string) format {
	switch {
	case strings.HasSuffix(path, ".json"):
		return formatJSON
	case strings.HasSuffix(path, ".xml"):
		return formatXML
	}
	return formatUnspecified
}

// pathValue returns a wildcard of the route, without the format suffix
// when it is the path's last segment.
func pathValue(r *http.Request, name string) string {
	v := r.PathValue(name)
	if strings.HasSuffix(r.URL.Path, "/"+v) {
		v = strings.TrimSuffix(strings.TrimSuffix(v, ".json"), ".xml")
	}
	return v
}

// parseID reads an element id or version from a path segment as cgimap's
// router does (src/router.cpp match_osm_id): digits only, above zero, at
// most 64 bits. Anything else matches no route, which cgimap answers 404.
// Ids beyond int64 are valid there but cannot exist in a bigint column.
func parseID(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 || v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseVersion reads a version path segment.
func parseVersion(s string) (int, bool) {
	v, ok := parseID(s)
	if !ok || v > math.MaxInt32 {
		return 0, false
	}
	return int(v), true
}

// queryParam finds a query parameter the way cgimap does (src/http.cpp
// urldecode and parse_params): the whole query string is decoded first,
// then split on '&' and '='; a pair with more than one '=' is ignored.
func queryParam(r *http.Request, name string) (string, bool) {
	for _, pair := range strings.Split(formDecode(r.URL.RawQuery), "&") {
		if pair == "" {
			continue
		}
		kv := strings.Split(pair, "=")
		switch {
		case len(kv) == 1 && kv[0] == name:
			return "", true
		case len(kv) == 2 && kv[0] == name:
			return kv[1], true
		}
	}
	return "", false
}

// formDecode decodes '+' and %XX escapes, passing a malformed escape
// through untouched (cgimap's form_urldecode).
func formDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// idVersion is one item of a multi-fetch list: an id, and a version when
// the item was written ID"v"VERSION.
type idVersion struct {
	ID      uint64
	Version uint32
	// HasVersion distinguishes "5" (the current version) from "5v0".
	HasVersion bool
}

func (a idVersion) compare(b idVersion) int {
	switch {
	case a.ID != b.ID:
		return cmpUint(a.ID, b.ID)
	case a.HasVersion != b.HasVersion:
		if !a.HasVersion {
			return -1
		}
		return 1
	}
	return cmpUint(uint64(a.Version), uint64(b.Version))
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MaxMultiFetchIDs bounds the distinct items of one multi-fetch
// (nodes=, ways=, relations=), which otherwise only the request line
// bounds. Behind openstreetmap.org's 8,190-byte request line fit at most
// about 1,850 distinct ids (the shortest ones, 1 to 4 digits and a
// comma), so no client made for it is refused; JOSM and iD ask for a few
// hundred at a time.
const MaxMultiFetchIDs = 2000

// parseIDList reads a multi-fetch parameter as cgimap does
// (src/api06/handler_utils.cpp parse_id_list_params): comma-separated
// items, empty items skipped, each "ID" or "IDvVERSION", numbers read
// like Ruby's to_i (a non-number is 0, which no element has), duplicates
// removed. An absent or empty list is nil.
func parseIDList(r *http.Request, param string) []idVersion {
	v, ok := queryParam(r, param)
	if !ok || v == "" {
		return nil
	}
	var list []idVersion
	for _, item := range strings.Split(v, ",") {
		if item == "" {
			continue
		}
		var iv idVersion
		switch parts := strings.Split(item, "v"); len(parts) {
		case 1:
			iv.ID = rubyNumber(parts[0], 64)
		case 2:
			iv.ID = rubyNumber(parts[0], 64)
			iv.Version = uint32(rubyNumber(parts[1], 32))
			iv.HasVersion = true
		}
		list = append(list, iv)
	}
	slices.SortFunc(list, idVersion.compare)
	return slices.CompactFunc(list, func(a, b idVersion) bool { return a.compare(b) == 0 })
}

// rubyNumber reads the leading decimal digits of s, or 0 when there are
// none or they overflow (std::from_chars as cgimap's parse_ruby_number
// uses it).
func rubyNumber(s string, bits int) uint64 {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(s[:n], 10, bits)
	if err != nil {
		return 0
	}
	return v
}

// parseMapBox reads and checks the bbox parameter of the map call
// (cgimap src/api06/map_handler.cpp validate_request).
func parseMapBox(r *http.Request, maxArea float64) (osmdata.BoxDegrees, *apiError) {
	v, ok := queryParam(r, "bbox")
	if !ok {
		return osmdata.BoxDegrees{}, newError(errBBoxFormat)
	}
	box, err := osmdata.ParseBBox(v)
	switch err {
	case nil:
	case osmdata.ErrBoxRange:
		return osmdata.BoxDegrees{}, newError(errBBoxRange)
	default:
		return osmdata.BoxDegrees{}, newError(errBBoxFormat)
	}
	if box.Area() > maxArea {
		return osmdata.BoxDegrees{}, newError(errBBoxTooLarge, maxArea)
	}
	return box, nil
}
