package clientstest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// TestPythonOsmapiAcrossMerge drives the editor flow across a merge
// (merge_flow_test.go) with python3-osmapi on both backends: the second
// changeset cites the versions osmapi kept from the first one's
// diffResult and NodeUpdate — the fountain at its provisional version 3,
// final version 1 since the merge.
func TestPythonOsmapiAcrossMerge(t *testing.T) {
	_, err := exec.Command(debianPython, "-c", "import osmapi").CombinedOutput()
	servetest.RequireTool(t, "python3-osmapi for "+debianPython, "scripts/setup installs the Debian package python3-osmapi", err)

	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			// ASCII names: python-requests sends Basic credentials in
			// Latin-1 (TestPythonOsmapi).
			s := newMergeSession(t, backend, "Trusted Mapper", "New Mapper")
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, debianPython, filepath.Join("python", "osmapi_merge_session.py"))
			cmd.Env = append(os.Environ(),
				"OSM_API_URL="+s.server.Base, "OSM_USER="+s.author, "OSM_PASSWORD="+s.password,
				"OSM_OTHER_USER="+s.other, "OSM_OTHER_PASSWORD="+s.otherPassword)
			merges, result := runFlowScript(t, cmd, s.server)
			var out struct {
				Steps pySession `json:"steps"`
			}
			if err := json.Unmarshal(result, &out); err != nil {
				t.Fatalf("osmapi merge session result %s: %v", result, err)
			}
			ids, ok := checkPythonFlow(t, s, out.Steps)
			if !ok {
				t.FailNow()
			}
			checkFlowMerged(t, s, ids, merges)
		})
	}
}

// checkPythonFlow checks what osmapi answered along the flow, and
// returns the ids it created.
func checkPythonFlow(t *testing.T, s *mergeSession, out pySession) (flowIDs, bool) {
	t.Helper()
	var ids flowIDs
	other, ok1 := pyValue[int64](t, out, "other_changeset")
	otherNode, ok2 := pyValue[pyNode](t, out, "other_node")
	cs1, ok3 := pyValue[int64](t, out, "changeset1")
	created, ok4 := pyValue[[]pyChange](t, out, "upload_create")
	modified, ok5 := pyValue[[]pyChange](t, out, "upload_modify")
	updated, ok6 := pyValue[pyNode](t, out, "fountain_update")
	cs2, ok7 := pyValue[int64](t, out, "changeset2")
	up2, ok8 := pyValue[[]pyChange](t, out, "upload2")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || !ok8 {
		return ids, false
	}
	if len(created) != 3 || len(modified) != 1 || len(up2) != 3 {
		t.Errorf("ChangesetUpload answered %d, %d and %d changes; want the 3, 1 and 3 sent", len(created), len(modified), len(up2))
		return ids, false
	}
	fountain, corner := pyDecode[pyNode](t, created[0].Data), pyDecode[pyNode](t, created[1].Data)
	square := pyDecode[pyWay](t, created[2].Data)
	bollard := pyDecode[pyNode](t, up2[0].Data)
	ids = flowIDs{Fountain: fountain.ID, Corner: corner.ID, Bollard: bollard.ID, Square: square.ID,
		Changeset1: cs1, Changeset2: cs2, Other: other, OtherNode: otherNode.ID}

	// The provisional versions osmapi kept, as OSM gives them.
	if fountain.Version != 1 || corner.Version != 1 || square.Version != 1 {
		t.Errorf("the creates answered node %d v%d, node %d v%d, way %d v%d; want version 1 each",
			fountain.ID, fountain.Version, corner.ID, corner.Version, square.ID, square.Version)
	}
	if n := pyDecode[pyNode](t, modified[0].Data); n.ID != fountain.ID || n.Version != 2 {
		t.Errorf("the first modify of the fountain answered node %d v%d; want %d v2", n.ID, n.Version, fountain.ID)
	}
	if updated.ID != fountain.ID || updated.Version != 3 {
		t.Errorf("NodeUpdate of the fountain answered node %d v%d; want %d v3 (provisional)", updated.ID, updated.Version, fountain.ID)
	}
	if otherNode.ID <= gate.ID || slices.Contains([]int64{fountain.ID, corner.ID, bollard.ID}, otherNode.ID) {
		t.Errorf("the untrusted contributor's node got id %d; want a fresh one", otherNode.ID)
	}

	// Between the merges: what osmapi reads once the first changeset is
	// authoritative.
	if cs, ok := pyValue[pyChangeset](t, out, "changeset1_get"); ok && (cs.ID != cs1 || cs.Open || cs.ReviewState != "merged" || cs.ChangesCount != "3") {
		t.Errorf("ChangesetGet of the merged changeset: %+v; want closed, review_state merged, 3 changes (one version per element)", cs)
	}
	checkPyNode(t, out, "fountain_anonymous", s.author, cs1, fountain.ID, 1, flowFountainV1.Tags)
	checkPyWay(t, out, "square_anonymous", s.author, cs1, square.ID, 1, []int64{fountain.ID, corner.ID}, flowSquareV1)
	if n, ok := pyValue[pyNode](t, out, "fountain_anonymous"); ok && (n.Lat != flowFountainV1.Lat || n.Lon != flowFountainV1.Lon) {
		t.Errorf("NodeGet of the merged fountain: at %v,%v; want %v,%v", n.Lat, n.Lon, flowFountainV1.Lat, flowFountainV1.Lon)
	}

	// The second upload cited the fountain at 3 and the square at 1: OSM
	// answers cited+1.
	var got []string
	for _, c := range up2 {
		d := pyDecode[map[string]any](t, c.Data)
		got = append(got, fmt.Sprintf("%s %s %v v%v", c.Action, c.Type, d["id"], d["version"]))
	}
	want := []string{
		fmt.Sprintf("create node %d v1", bollard.ID), fmt.Sprintf("modify way %d v2", square.ID), fmt.Sprintf("modify node %d v4", fountain.ID),
	}
	if !slices.Equal(got, want) {
		t.Errorf("the upload citing the kept versions answered %v; want %v", got, want)
	}
	if cs, ok := pyValue[pyChangeset](t, out, "changeset2_get"); ok && (cs.ID != cs2 || cs.Open || cs.ReviewState != "merged" ||
		!maps.Equal(cs.Tag, map[string]string{"comment": "python osmapi: the square grows", "created_by": "osmapi/3.1.0"})) {
		t.Errorf("ChangesetGet of the second merged changeset: %+v; want closed, merged, its tags", cs)
	}
	return ids, true
}
