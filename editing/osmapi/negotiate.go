package osmapi

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Content negotiation as cgimap does it (src/choose_formatter.cpp): a
// .json or .xml suffix fixes the format and the Accept header may only
// confirm it; otherwise the most acceptable available format wins, XML
// when the client accepts anything. So "Accept: application/json" on a
// path without suffix is answered in JSON.

type acceptedType struct {
	format       format
	typ, subtype string
	quality      float64
}

// acceptHeader is a parsed Accept header: each recognised format with its
// quality.
type acceptHeader map[format]float64

func parseAccept(header string) (acceptHeader, *apiError) {
	items := splitTrim(header, ',')
	if len(items) == 0 {
		return nil, newError(errAcceptEmpty)
	}
	var accepted []acceptedType
	for _, item := range items {
		elems := splitTrim(item, ';')
		if len(elems) == 0 {
			return nil, newError(errAcceptMalformed)
		}
		if elems[0] == "*" {
			elems[0] = "*/*"
		}
		parts := splitTrim(elems[0], '/')
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, newError(errAcceptMediaType)
		}
		if parts[0] == "*" && parts[1] != "*" {
			return nil, newError(errAcceptWildcard)
		}
		f := formatOfMediaType(elems[0])
		if f == formatUnspecified {
			continue
		}
		a := acceptedType{format: f, typ: parts[0], subtype: parts[1], quality: 1}
		for _, param := range elems[1:] {
			kv := splitTrim(param, '=')
			if len(kv) != 2 {
				return nil, newError(errAcceptParameter)
			}
			if kv[0] != "q" {
				continue
			}
			q, ok := parseQuality(kv[1])
			if !ok {
				return nil, newError(errAcceptQuality)
			}
			a.quality = q
		}
		accepted = append(accepted, a)
	}
	// cgimap sorts by quality, then type and subtype, all descending, and
	// fills its map in that order: a format listed twice keeps the
	// quality of its last entry in that order.
	slices.SortStableFunc(accepted, func(a, b acceptedType) int {
		if c := cmp.Compare(b.quality, a.quality); c != 0 {
			return c
		}
		if c := cmp.Compare(b.typ, a.typ); c != 0 {
			return c
		}
		return cmp.Compare(b.subtype, a.subtype)
	})
	h := acceptHeader{}
	for _, a := range accepted {
		h[a.format] = a.quality
	}
	return h, nil
}

// formatOfMediaType maps a media range to a format (cgimap
// src/mime_types.cpp parse_from); text/xml is an alias of application/xml.
func formatOfMediaType(s string) format {
	switch s {
	case "*", "*/*", "text/*":
		return formatAny
	case "text/plain":
		return formatText
	case "text/xml", "application/xml":
		return formatXML
	case "application/json":
		return formatJSON
	}
	return formatUnspecified
}

// parseQuality reads a q value: a plain decimal between 0 and 1.
func parseQuality(s string) (float64, bool) {
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return 0, false
	}
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q < 0 || q > 1 {
		return 0, false
	}
	return q, true
}

func (h acceptHeader) acceptable(f format) bool {
	_, exact := h[f]
	_, wildcard := h[formatAny]
	return exact || wildcard
}

// mostAcceptable is the available format with the highest quality, or
// the first available one when only a wildcard matches.
func (h acceptHeader) mostAcceptable(available []format) format {
	best, score := formatUnspecified, -1.0
	for _, f := range available {
		if q, ok := h[f]; ok && q > score {
			best, score = f, q
		}
	}
	if best == formatUnspecified && len(available) > 0 {
		if _, ok := h[formatAny]; ok {
			best = available[0]
		}
	}
	return best
}

// negotiate chooses the reply's format for r.
func negotiate(r *http.Request, available []format) (format, *apiError) {
	header := "*/*"
	if v, ok := r.Header["Accept"]; ok {
		header = strings.Join(v, ",")
	}
	accept, err := parseAccept(header)
	if err != nil {
		return 0, err
	}
	path := r.URL.Path
	if fixed := pathFormat(path); fixed != formatUnspecified {
		if !slices.Contains(available, fixed) {
			return 0, newError(errNotAcceptable, path, formatList(available))
		}
		if !accept.acceptable(fixed) {
			return 0, newError(errNotAcceptable, path, formatList([]format{fixed}))
		}
		return fixed, nil
	}
	best := accept.mostAcceptable(available)
	if best == formatUnspecified {
		return 0, newError(errNotAcceptable, path, formatList(available))
	}
	return best, nil
}

func formatList(fs []format) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.mimeType()
	}
	return strings.Join(names, ", ")
}

// splitTrim splits s on sep, trims spaces from each part and drops the
// empty ones (cgimap include/cgimap/util.hpp split_trim).
func splitTrim(s string, sep byte) []string {
	var out []string
	for _, part := range strings.Split(s, string(sep)) {
		if p := strings.Trim(part, " \t\n\r"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// gzipAccepted reads Accept-Encoding: gzip when the client accepts it,
// identity otherwise. cgimap (src/http.cpp choose_encoding) also offers
// deflate and brotli and splits the header on ", " only; here the header
// is read as RFC 9110 says, and identity is acceptable unless refused.
func gzipAccepted(header string) (gzip bool, err *apiError) {
	if header == "" {
		return false, nil
	}
	quality := map[string]float64{}
	for _, item := range splitTrim(header, ',') {
		elems := splitTrim(item, ';')
		if len(elems) == 0 {
			continue
		}
		q := 1.0
		for _, p := range elems[1:] {
			kv := splitTrim(p, '=')
			if len(kv) == 2 && kv[0] == "q" {
				if v, ok := parseQuality(kv[1]); ok {
					q = v
				}
			}
		}
		quality[strings.ToLower(elems[0])] = q
	}
	lookup := func(name string) (float64, bool) {
		if q, ok := quality[name]; ok {
			return q, true
		}
		q, ok := quality["*"]
		return q, ok
	}
	gz, gzListed := lookup("gzip")
	identity, identityListed := lookup("identity")
	if !identityListed {
		identity = 1
	}
	switch {
	case gzListed && gz > 0 && gz >= identity:
		return true, nil
	case identity > 0:
		return false, nil
	}
	return false, newError(errEncodingNotAcceptable)
}
