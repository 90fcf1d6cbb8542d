package clientstest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// jsFlow is the result of node/osm-api-merge-session.mjs.
type jsFlow struct {
	Other             jsOutcome `json:"other"`
	Upload1           jsOutcome `json:"upload1"`
	Changeset1        jsOutcome `json:"changeset1"`
	FountainAnonymous jsOutcome `json:"fountainAnonymous"`
	SquareAnonymous   jsOutcome `json:"squareAnonymous"`
	Upload2           jsOutcome `json:"upload2"`
	Changeset2        jsOutcome `json:"changeset2"`
}

// jsChangeset is a changeset as osm-api's getChangeset returns it.
type jsChangeset struct {
	ID           int64             `json:"id"`
	Open         bool              `json:"open"`
	ReviewState  string            `json:"review_state"`
	ChangesCount int               `json:"changes_count"`
	Tags         map[string]string `json:"tags"`
}

// TestNpmOsmAPIAcrossMerge drives the editor flow across a merge
// (merge_flow_test.go) with osm-api@4.0.0 on both backends, signed in
// with OAuth 2: the first upload modifies the fountain twice by its
// placeholder id, so the diffResult osm-api keeps says version 3; the
// second upload, after the merge made it version 1, cites that 3.
func TestNpmOsmAPIAcrossMerge(t *testing.T) {
	nodeBin := requireOsmAPI(t)
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			const redirectURI = "http://127.0.0.1:9/osm-api-land.html"
			var clientID string
			s := newMergeSession(t, backend, "Élise Trusted", "Noé Nouveau", func(ds dataset) {
				clientID = addPublicApp(t, ds, "osm-api web app", redirectURI)
			})
			_, token := signInWithOAuth2(t, s.server.Base, clientID, redirectURI, s.author, s.password)
			_, otherToken := signInWithOAuth2(t, s.server.Base, clientID, redirectURI, s.other, s.otherPassword)
			wire := newWireRecorder(t, s.server.Base)

			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, nodeBin, "osm-api-merge-session.mjs")
			cmd.Dir = osmAPIDir
			cmd.Env = append(os.Environ(), "OSM_API_URL="+wire.URL,
				"OSM_ACCESS_TOKEN="+token.AccessToken, "OSM_OTHER_TOKEN="+otherToken.AccessToken)
			merges, result := runFlowScript(t, cmd, s.server)
			var out jsFlow
			if err := json.Unmarshal(result, &out); err != nil {
				t.Fatalf("osm-api merge session result %s: %v", result, err)
			}
			ids, ok := checkOsmAPIFlow(t, s, out)
			if !ok {
				t.FailNow()
			}
			// The reads osm-api made as nobody went without credentials.
			for _, ex := range wire.find("GET", func(p string) bool {
				return p == fmt.Sprintf("/api/0.6/node/%d.json", ids.Fountain) || p == fmt.Sprintf("/api/0.6/way/%d/full.json", ids.Square)
			}) {
				if a := ex.Header.Get("Authorization"); a != "" {
					t.Errorf("osm-api's anonymous read %s was sent with Authorization %.20q…", ex.Path, a)
				}
			}
			checkFlowMerged(t, s, ids, merges)
		})
	}
}

// checkOsmAPIFlow checks what osm-api answered along the flow, and
// returns the ids it created.
func checkOsmAPIFlow(t *testing.T, s *mergeSession, out jsFlow) (flowIDs, bool) {
	t.Helper()
	var ids flowIDs
	other, ok1 := jsValue[uploadResult](t, "uploadChangeset (untrusted)", out.Other)
	up1, ok2 := jsValue[uploadResult](t, "uploadChangeset (first)", out.Upload1)
	up2, ok3 := jsValue[uploadResult](t, "uploadChangeset (citing the kept versions)", out.Upload2)
	if !ok1 || !ok2 || !ok3 {
		return ids, false
	}
	single := func(what string, r uploadResult) (int64, func(typ, old string) (int64, int), bool) {
		t.Helper()
		if len(r) != 1 {
			t.Errorf("%s returned %d changesets, want 1", what, len(r))
			return 0, nil, false
		}
		for cs, res := range r {
			var id int64
			fmt.Sscan(cs, &id)
			return id, func(typ, old string) (int64, int) {
				e := res.DiffResult[typ][old]
				if e.NewID == nil || e.NewVersion == nil {
					t.Errorf("%s: no new id and version for %s %s in %v", what, typ, old, res.DiffResult)
					return 0, 0
				}
				return *e.NewID, *e.NewVersion
			}, true
		}
		return 0, nil, false
	}
	otherCS, otherDiff, ok1 := single("the untrusted upload", other)
	cs1, diff1, ok2 := single("the first upload", up1)
	cs2, diff2, ok3 := single("the second upload", up2)
	if !ok1 || !ok2 || !ok3 {
		return ids, false
	}
	otherNode, _ := otherDiff("node", "-1")
	fountain, fv := diff1("node", "-1")
	corner, cv := diff1("node", "-2")
	square, sv := diff1("way", "-1")
	bollard, bv := diff2("node", "-1")
	_, fv2 := diff2("node", fmt.Sprint(fountain))
	_, sv2 := diff2("way", fmt.Sprint(square))
	ids = flowIDs{Fountain: fountain, Corner: corner, Bollard: bollard, Square: square,
		Changeset1: cs1, Changeset2: cs2, Other: otherCS, OtherNode: otherNode}

	// osm-api keeps the last diffResult line of the placeholder: the
	// second modify's provisional version.
	if fv != 3 || cv != 1 || sv != 1 {
		t.Errorf("the first upload's diffResult as osm-api keeps it: fountain v%d, corner v%d, square v%d; want 3, 1, 1", fv, cv, sv)
	}
	if bv != 1 || sv2 != 2 || fv2 != 4 {
		t.Errorf("the upload citing the fountain at 3 and the square at 1 answered bollard v%d, square v%d, fountain v%d; want 1, 2 and 4 (cited+1, as OSM)", bv, sv2, fv2)
	}

	if c, ok := jsValue[jsChangeset](t, "getChangeset (first)", out.Changeset1); ok && (c.ID != cs1 || c.Open || c.ReviewState != "merged" || c.ChangesCount != 3) {
		t.Errorf("getChangeset of the merged changeset: %+v; want closed, review_state merged, 3 changes (one version per element)", c)
	}
	if c, ok := jsValue[jsChangeset](t, "getChangeset (second)", out.Changeset2); ok && (c.ID != cs2 || c.Open || c.ReviewState != "merged" ||
		!maps.Equal(c.Tags, map[string]string{"comment": "osm-api: the square grows", "created_by": "osm-api-js 4.0.0"})) {
		t.Errorf("getChangeset of the second merged changeset: %+v; want closed, merged, its tags", c)
	}
	if els, ok := jsValue[[]jsElement](t, "getFeature(node) anonymously", out.FountainAnonymous); ok {
		if len(els) != 1 || els[0].ID != fountain || els[0].Version != 1 || els[0].Changeset != cs1 || els[0].User != s.author ||
			els[0].Lat != flowFountainV1.Lat || els[0].Lon != flowFountainV1.Lon || !maps.Equal(els[0].Tags, flowFountainV1.Tags) {
			t.Errorf("getFeature of the merged fountain, anonymously: %s; want node %d v1 of changeset %d by %s, %v",
				out.FountainAnonymous.Value, fountain, cs1, s.author, flowFountainV1.Tags)
		}
	}
	if els, ok := jsValue[[]jsElement](t, "getFeature(way, full) anonymously", out.SquareAnonymous); ok {
		var got []string
		for _, e := range els {
			got = append(got, e.String())
		}
		want := []string{fmt.Sprintf("node %d v1", fountain), fmt.Sprintf("node %d v1", corner), fmt.Sprintf("way %d v1", square)}
		if !slices.Equal(got, want) || !slices.Equal(els[len(els)-1].Nodes, []int64{fountain, corner}) || !maps.Equal(els[len(els)-1].Tags, flowSquareV1) {
			t.Errorf("getFeature of the merged square, full, anonymously: %s; want %s", out.SquareAnonymous.Value, strings.Join(want, ", "))
		}
	}
	return ids, true
}
