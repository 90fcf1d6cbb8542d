package osmapi

import (
	"net/http"
	"slices"
)

// accountRoutePatterns are the calls about the caller (user.go).
var accountRoutePatterns = []string{"/api/0.6/user/details", "/api/0.6/permissions"}

// Routes lists "METHOD /pattern" for every call Register mounts on an
// API with editing and a review service, from the tables Register reads
// (without the .json and .xml variants, the OPTIONS preflights and the
// 405 answers to other methods), so that a test can hold a table of who
// may call what to every route, a new one included.
func Routes() []string {
	var out []string
	for _, rt := range writeRoutes() {
		out = append(out, rt.method+" "+rt.pattern)
	}
	for _, rt := range changesetReadRoutes {
		out = append(out, http.MethodGet+" "+rt.pattern)
	}
	for _, rt := range discussionRoutes {
		out = append(out, rt.method+" "+rt.pattern)
	}
	for _, rt := range redactRoutes {
		out = append(out, http.MethodPost+" "+rt.pattern)
	}
	for _, rt := range routes {
		out = append(out, http.MethodGet+" "+rt.pattern)
	}
	for _, p := range append([]string{"/api/capabilities", "/api/0.6/capabilities", "/api/versions"}, accountRoutePatterns...) {
		out = append(out, http.MethodGet+" "+p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
