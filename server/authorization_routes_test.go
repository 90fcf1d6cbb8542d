package server_test

import (
	"encoding/binary"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/geocommuns/geocommuns/editing/osmapi"
	_ "github.com/geocommuns/geocommuns/gen/geocommuns/v1" // registers the services' descriptors
)

// registeredRoutes are the routes the authorization table must cover:
// every OSM API route from the tables its Register reads, and every
// procedure of every Connect service of proto/ (all are mounted).
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	routes := osmapi.Routes()
	protoregistry.GlobalFiles.RangeFilesByPackage("geocommuns.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				routes = append(routes, "/"+string(svc.FullName())+"/"+string(svc.Methods().Get(j).Name()))
			}
		}
		return true
	})
	if !slices.Contains(routes, "/geocommuns.v1.ReviewService/Approve") || !slices.Contains(routes, "PUT /api/0.6/changeset/{id}/close") {
		t.Fatalf("the route lists miss routes they must have; they are: %v", routes)
	}
	return routes
}

// checkEveryRouteHasARow fails for a registered route without a row, and
// for a row of a route nobody registers (a renamed route).
func checkEveryRouteHasARow(t *testing.T, rows []row) {
	t.Helper()
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.key] = true
	}
	registered := map[string]bool{}
	for _, route := range registeredRoutes(t) {
		registered[route] = true
		if !covered[route] {
			t.Errorf("%s has no row in the authorization table: say who may call it (authorizationRows)", route)
		}
	}
	for key := range covered {
		osmOrConnect := strings.Contains(key, " /api/") || strings.HasPrefix(key, "/geocommuns.")
		if osmOrConnect && !registered[key] {
			t.Errorf("the authorization table has rows for %s, which is not registered", key)
		}
	}
}

// subscribeHeaders opens the Subscribe stream (Connect's streaming
// protocol, JSON) with a deadline of its own, and returns its status:
// 200 once the server accepted the caller; rejected credentials get the
// middleware's 401 before the stream starts. The deadline only ends the
// stream; the status does not depend on it.
func subscribeHeaders(w *world, c caller) answer {
	msg := []byte(`{"afterSeq":"0"}`)
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	frame = append(frame, msg...)
	a := w.call(c, http.MethodPost, "/geocommuns.v1.SyncService/Subscribe", "application/connect+json", string(frame),
		"Connect-Protocol-Version", "1", "Connect-Timeout-Ms", "300")
	if a.status == http.StatusOK && (strings.Contains(a.body, `"unauthenticated"`) || strings.Contains(a.body, `"permission_denied"`)) {
		// The stream's end says the caller was refused.
		a.status = http.StatusForbidden
	}
	return a
}
