package webapp

import (
	"net/url"
	"strings"
)

// contentSecurityPolicy is the pages' policy: scripts, styles and API
// calls from this server only, so that a tag value that slipped past
// the DOM building as markup still could not run a script or send a
// reviewer's session anywhere; MapLibre's worker, which it starts from a
// blob: URL; and the basemap's tiles from their origin, when there is
// one (MapLibre fetches raster tiles and decodes them as images).
func contentSecurityPolicy(basemap string) string {
	tiles := ""
	if origin := tileOrigin(basemap); origin != "" {
		tiles = " " + origin
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: blob:" + tiles,
		"connect-src 'self'" + tiles,
		"worker-src blob:",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// tileOrigin is the CSP source of a tile URL template's origin; empty
// when there is no basemap. serve refuses a template that does not parse
// as an http(s) URL with a host (placeholders are allowed in its path
// and query only), so one that does not is left out rather than guessed.
func tileOrigin(template string) string {
	u, err := url.Parse(template)
	if template == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
