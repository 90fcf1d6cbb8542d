package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
)

// secretName is what a contributor should never have mapped: once the
// version carrying it is redacted, no read or feed may show it.
const secretName = "Home of Jane Doe, 12 rue Secrète"

// post sends POST path with an Authorization header ("" for none).
func (s *serveProcess) post(t *testing.T, path, authorization string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// redactedMarker finds the marker in protojson.Format's text, whose
// spacing protojson varies on purpose from build to build.
var redactedMarker = regexp.MustCompile(`"redacted":\s*true`)

// subscribeAll reads the first n merges of the Subscribe feed, as JSON
// (every field a client would see, tags and positions included).
func subscribeAll(t *testing.T, base string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := geocommunsv1connect.NewSyncServiceClient(http.DefaultClient, base)
	stream, err := client.Subscribe(ctx, connect.NewRequest(&geocommunsv1.SubscribeRequest{}))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer stream.Close()
	var out []string
	for len(out) < n && stream.Receive() {
		if c := stream.Msg().GetChange(); c != nil {
			out = append(out, protojson.Format(c))
		}
	}
	if len(out) < n {
		t.Fatalf("Subscribe gave %d merges, want %d: %v", len(out), n, stream.Err())
	}
	return out
}

// connectReads returns, as JSON, node 1's history from MapService and
// the review of changeset cs (its elements' before and after).
func connectReads(t *testing.T, base string, cs int64) string {
	t.Helper()
	ctx := context.Background()
	history, err := geocommunsv1connect.NewMapServiceClient(http.DefaultClient, base).GetHistory(ctx,
		connect.NewRequest(&geocommunsv1.GetHistoryRequest{Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: 1}))
	if err != nil {
		t.Fatalf("GetHistory: %v", err)
	}
	review, err := geocommunsv1connect.NewReviewServiceClient(http.DefaultClient, base).GetReview(ctx,
		connect.NewRequest(&geocommunsv1.GetReviewRequest{ChangesetId: cs}))
	if err != nil {
		t.Fatalf("GetReview %d: %v", cs, err)
	}
	return protojson.Format(history.Msg) + "\n" + protojson.Format(review.Msg)
}

// TestRedactionHidesAVersionFromEveryReadAndFeed: a contributor maps a
// private address as node 1 v2, a second edit removes it (v3), and an
// administrator redacts v2 through the OSM API. From then on no read
// (the version, history, multi-fetch, the changeset's download) and no
// feed (the replication files cut before, Subscribe) shows its name; the
// feeds still carry both merges, with v2 as a redacted marker. Deleting
// the contributor's account then renames them user_ID throughout
// history. On both backends, over the built binary.
func TestRedactionHidesAVersionFromEveryReadAndFeed(t *testing.T) {
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			importSmallExtract(t, ds, t.TempDir())
			mapper := trustedMappers(t, ds.flags, 1)[0]
			r := runBinary(t, nil, append([]string{"user", "add", "boss", "--role", "admin"}, ds.flags...)...)
			if r.exit != 0 {
				t.Fatalf("user add boss: %d %s", r.exit, r.stderr)
			}
			admin := "Bearer " + strings.TrimSpace(r.stdout)
			s := startServe(t, append(ds.flags, "--replication-interval", "0")...)

			edit := func(version int, tag string) int64 {
				t.Helper()
				cs, err := mapper.open(s.base)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := mapper.upload(s.base, cs, fmt.Sprintf(`<osmChange version="0.6"><modify><node id="1" changeset="%d" version="%d" lat="42.51" lon="1.51">%s</node></modify></osmChange>`,
					cs, version, tag)); err != nil {
					t.Fatal(err)
				}
				if err := mapper.close(s.base, cs); err != nil {
					t.Fatal(err)
				}
				return cs
			}
			secretCS := edit(1, `<tag k="name" v="`+secretName+`"/>`)
			waitFeed(t, s.base, 1)
			edit(2, `<tag k="amenity" v="bench"/>`)
			waitFeed(t, s.base, 2)

			// Before: every place checked below shows the name, so that
			// each check can fail.
			reads := map[string]string{
				"version":            "/api/0.6/node/1/2",
				"history":            "/api/0.6/node/1/history",
				"history.json":       "/api/0.6/node/1/history.json",
				"changeset download": fmt.Sprintf("/api/0.6/changeset/%d/download", secretCS),
			}
			for what, path := range reads {
				if !strings.Contains(string(s.getOK(t, path)), secretName) {
					t.Fatalf("before the redaction, %s (%s) does not show the name: the test checks nothing", what, path)
				}
			}
			replicationFile := func(n int) string {
				return string(gunzip(t, s.getOK(t, fmt.Sprintf("/replication/minute/000/000/%03d.osc.gz", n))))
			}
			if !strings.Contains(replicationFile(1), secretName) || !strings.Contains(strings.Join(subscribeAll(t, s.base, 2), "\n"), secretName) ||
				!strings.Contains(connectReads(t, s.base, secretCS), secretName) {
				t.Fatal("before the redaction, the replication file, Subscribe or Connect does not show the name: the test checks nothing")
			}

			// Only an administrator redacts, and only a historical version.
			if code, _ := s.post(t, "/api/0.6/node/1/2/redact?redaction=1", ""); code != http.StatusUnauthorized {
				t.Errorf("anonymous redact: %d, want 401", code)
			}
			if code, _ := s.post(t, "/api/0.6/node/1/2/redact?redaction=1", "Bearer "+mapper.token); code != http.StatusForbidden {
				t.Errorf("contributor's redact: %d, want 403", code)
			}
			if code, body := s.post(t, "/api/0.6/node/1/3/redact?redaction=1", admin); code != http.StatusBadRequest ||
				body != "Cannot redact current version of element, only historical versions may be redacted." {
				t.Errorf("redact the current version: %d %q, want openstreetmap-website's 400", code, body)
			}
			if code, body := s.post(t, "/api/0.6/node/1/2/redact?redaction=1&reason=court+order+2026-17", admin); code != http.StatusOK {
				t.Fatalf("admin's redact: %d %s", code, body)
			}

			for _, path := range []string{"/api/0.6/node/1/2", "/api/0.6/node/1/2.json"} {
				if code, body := s.get(t, path); code != http.StatusForbidden || body != "" {
					t.Errorf("GET %s: %d %q, want 403 with an empty body", path, code, body)
				}
			}
			if code, _ := s.get(t, "/api/0.6/nodes?nodes=1v2"); code != http.StatusNotFound {
				t.Errorf("multi-fetch of the redacted version: %d, want 404", code)
			}
			for what, path := range reads {
				if what == "version" {
					continue
				}
				if body := string(s.getOK(t, path)); strings.Contains(body, secretName) {
					t.Errorf("after the redaction, %s (%s) shows the name:\n%s", what, path, body)
				}
			}
			history := string(s.getOK(t, "/api/0.6/node/1/history"))
			if !strings.Contains(history, `version="1"`) || strings.Contains(history, `version="2"`) || !strings.Contains(history, `version="3"`) {
				t.Errorf("history after the redaction should hold versions 1 and 3 only:\n%s", history)
			}
			for n := 1; n <= 2; n++ {
				osc := replicationFile(n)
				if strings.Contains(osc, secretName) {
					t.Errorf("replication file %d, cut before the redaction, still shows the name:\n%s", n, osc)
				}
				if !regexp.MustCompile(`<node id="1" visible="true" version="` + fmt.Sprint(n+1) + `"`).MatchString(osc) {
					t.Errorf("replication file %d lost its change of node 1 v%d:\n%s", n, n+1, osc)
				}
			}
			merges := subscribeAll(t, s.base, 2)
			if all := strings.Join(merges, "\n"); strings.Contains(all, secretName) {
				t.Errorf("Subscribe shows the name after the redaction:\n%s", all)
			}
			if !redactedMarker.MatchString(merges[0]) || !redactedMarker.MatchString(merges[1]) {
				t.Errorf("Subscribe should carry node 1 v2 as a redacted marker, new in merge 1 and old in merge 2:\n%s", strings.Join(merges, "\n"))
			}

			if got := connectReads(t, s.base, secretCS); strings.Contains(got, secretName) || !redactedMarker.MatchString(got) {
				t.Errorf("Connect's history and the review of changeset %d should carry v2 as a redacted marker, without the name:\n%s", secretCS, got)
			}
			maps := geocommunsv1connect.NewMapServiceClient(http.DefaultClient, s.base)
			v2 := int64(2)
			if _, err := maps.GetElement(context.Background(), connect.NewRequest(&geocommunsv1.GetElementRequest{
				Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: 1, Version: &v2})); connect.CodeOf(err) != connect.CodePermissionDenied {
				t.Errorf("Connect GetElement of the redacted version: %v, want permission_denied", err)
			}

			cmd := func(args ...string) result { return runBinary(t, nil, append(args, ds.flags...)...) }
			if r := cmd("redact", "node/1/3", "--by", "boss", "--reason", "test"); r.exit == 0 || !strings.Contains(r.stderr, "current version") {
				t.Errorf("redact the current version from the CLI: exit %d %s", r.exit, r.stderr)
			}
			if r := cmd("redact", "node/1/2", "--by", "mapper0", "--reason", "test"); r.exit == 0 || !strings.Contains(r.stderr, "not an administrator") {
				t.Errorf("redact by a contributor from the CLI: exit %d %s", r.exit, r.stderr)
			}

			// Deleting the contributor's account renames them in history.
			r = cmd("user", "delete", "mapper0", "--by", "boss", "--reason", "erasure request")
			if r.exit != 0 {
				t.Fatalf("user delete: %d %s", r.exit, r.stderr)
			}
			pseudonym := strings.TrimSpace(r.stdout)
			if !regexp.MustCompile(`^user_\d+$`).MatchString(pseudonym) {
				t.Fatalf("user delete printed %q, want user_ID", pseudonym)
			}
			for _, path := range []string{"/api/0.6/node/1/history", fmt.Sprintf("/api/0.6/changeset/%d", secretCS)} {
				body := string(s.getOK(t, path))
				if strings.Contains(body, "mapper0") || !strings.Contains(body, `user="`+pseudonym+`"`) {
					t.Errorf("%s after the account's deletion should name %s, not mapper0:\n%s", path, pseudonym, body)
				}
			}
			if code, _ := s.authGet(t, "/api/0.6/user/details", "Bearer "+mapper.token); code != http.StatusUnauthorized {
				t.Errorf("the deleted account's token: %d, want 401", code)
			}

			audit := cmd("audit")
			if audit.exit != 0 {
				t.Fatalf("audit: %d %s", audit.exit, audit.stderr)
			}
			lines := strings.Split(strings.TrimSpace(audit.stdout), "\n")
			if len(lines) != 2 || !strings.HasSuffix(lines[0], "\tredact\tnode/1/2\tcourt order 2026-17") ||
				!strings.Contains(lines[1], "\tdelete_account\tuser/") || !strings.HasSuffix(lines[1], "\terasure request") {
				t.Errorf("audit:\n%s\nwant the redaction, then the account's deletion", audit.stdout)
			}
		})
	}
}
