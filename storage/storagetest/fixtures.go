package storagetest

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// baseTime is the timestamp of every fixture's version 1; later versions
// are an hour apart, so a backend that mixes versions up shows it.
var baseTime = time.Date(2019, 3, 14, 15, 9, 26, 0, time.UTC)

// deg converts degrees to 1e-7 units for readable fixtures.
func deg(d float64) int32 { return osmdata.RoundCoordToFixed(d) }

func versionTime(v int) time.Time { return baseTime.Add(time.Duration(v-1) * time.Hour) }

// tags builds an ordered tag list from key, value pairs.
func tags(kv ...string) osmdata.Tags {
	if len(kv)%2 != 0 {
		panic("tags: odd number of strings")
	}
	var t osmdata.Tags
	for i := 0; i < len(kv); i += 2 {
		t = append(t, osmdata.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return t
}

func newNode(id int64, v int, lat, lon int32, kv ...string) osmdata.Element {
	return osmdata.Element{
		Type: osmdata.Node, ID: id, Version: v, Visible: true,
		Changeset: 1000 + int64(v), Timestamp: versionTime(v), UID: 1, User: "alice",
		Lat: lat, Lon: lon, Tags: tags(kv...),
	}
}

func newWay(id int64, v int, nodes []int64, kv ...string) osmdata.Element {
	return osmdata.Element{
		Type: osmdata.Way, ID: id, Version: v, Visible: true,
		Changeset: 1000 + int64(v), Timestamp: versionTime(v), UID: 1, User: "alice",
		Nodes: nodes, Tags: tags(kv...),
	}
}

func newRelation(id int64, v int, members []osmdata.Member, kv ...string) osmdata.Element {
	return osmdata.Element{
		Type: osmdata.Relation, ID: id, Version: v, Visible: true,
		Changeset: 1000 + int64(v), Timestamp: versionTime(v), UID: 1, User: "alice",
		Members: members, Tags: tags(kv...),
	}
}

func member(t osmdata.ElementType, ref int64, role string) osmdata.Member {
	return osmdata.Member{Type: t, Ref: ref, Role: role}
}

// deletion returns the next version of e as OSM records a delete: not
// visible, no tags, no way nodes or members. A deleted node keeps its last
// position, as osmdata.Element documents.
func deletion(e osmdata.Element) osmdata.Element {
	d := e
	d.Version = e.Version + 1
	d.Visible = false
	d.Changeset = 1000 + int64(d.Version)
	d.Timestamp = versionTime(d.Version)
	d.Tags, d.Nodes, d.Members = nil, nil, nil
	return d
}

// nextVersion returns a copy of e as its next version, to be changed by the
// caller.
func nextVersion(e osmdata.Element) osmdata.Element {
	n := e
	n.Version++
	n.Changeset = 1000 + int64(n.Version)
	n.Timestamp = versionTime(n.Version)
	n.Tags = slices.Clone(e.Tags)
	n.Nodes = slices.Clone(e.Nodes)
	n.Members = slices.Clone(e.Members)
	return n
}

// elementOpts compares elements as a user of the API sees them: nil and
// empty lists are the same, timestamps are instants.
var elementOpts = cmp.Options{cmpopts.EquateEmpty()}

// checkElements fails t unless got equals want element by element and
// every timestamp comes back in UTC with whole seconds.
func checkElements(t *testing.T, what string, got, want []osmdata.Element) {
	t.Helper()
	if diff := cmp.Diff(want, got, elementOpts); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
	checkTimestamps(t, what, got)
}

func checkTimestamps(t *testing.T, what string, els []osmdata.Element) {
	t.Helper()
	for _, e := range els {
		if _, off := e.Timestamp.Zone(); off != 0 || e.Timestamp.Location() != time.UTC {
			t.Errorf("%s: %s v%d timestamp %v is not in UTC", what, e.Key(), e.Version, e.Timestamp)
		}
		if e.Timestamp.Nanosecond() != 0 {
			t.Errorf("%s: %s v%d timestamp %v has a fraction of a second (libosmium rejects it)", what, e.Key(), e.Version, e.Timestamp)
		}
	}
}

// versionsOf describes elements as "node 1 v2" lines, for assertions on
// which elements came back regardless of content.
func versionsOf(els []osmdata.Element) []string {
	out := make([]string, len(els))
	for i, e := range els {
		out[i] = fmt.Sprintf("%s v%d", e.Key(), e.Version)
	}
	return out
}

func idsOf(els []osmdata.Element) []int64 {
	out := make([]int64, len(els))
	for i, e := range els {
		out[i] = e.ID
	}
	return out
}

func checkIDs(t *testing.T, what string, got []osmdata.Element, want ...int64) {
	t.Helper()
	if want == nil {
		want = []int64{}
	}
	if diff := cmp.Diff(want, idsOf(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: ids (-want +got):\n%s", what, diff)
	}
}

func mustApply(t *testing.T, s storage.Store, els ...osmdata.Element) {
	t.Helper()
	if err := s.Apply(t.Context(), els); err != nil {
		t.Fatalf("Apply %s: %v", strings.Join(versionsOf(els), ", "), err)
	}
}

func mustCounts(t *testing.T, s storage.Reader) storage.Counts {
	t.Helper()
	c, err := s.Counts(t.Context())
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	return c
}

func mustNextIDs(t *testing.T, s storage.Store) storage.IDs {
	t.Helper()
	ids, err := s.NextIDs(t.Context())
	if err != nil {
		t.Fatalf("NextIDs: %v", err)
	}
	return ids
}

func mustExport(t *testing.T, s storage.Reader) []osmdata.Element {
	t.Helper()
	var out []osmdata.Element
	err := s.Export(t.Context(), func(e *osmdata.Element) error {
		out = append(out, *e)
		return nil
	})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return out
}

// sortOSM sorts elements as OSM files are: nodes, ways, relations, by id.
func sortOSM(els []osmdata.Element) {
	sort.SliceStable(els, func(i, j int) bool { return els[i].Key().Less(els[j].Key()) })
}

// ofType keeps the elements of one type, in their order.
func ofType(els []osmdata.Element, t osmdata.ElementType) []osmdata.Element {
	var out []osmdata.Element
	for _, e := range els {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// sliceSource is an ElementSource over a slice, failing with err after
// failAfter elements when err is set.
type sliceSource struct {
	els       []osmdata.Element
	next      int
	failAfter int
	err       error
}

func (s *sliceSource) Next() (*osmdata.Element, error) {
	if s.err != nil && s.next == s.failAfter {
		return nil, s.err
	}
	if s.next == len(s.els) {
		return nil, io.EOF
	}
	e := s.els[s.next]
	s.next++
	return &e, nil
}

func source(els []osmdata.Element) *sliceSource { return &sliceSource{els: els} }

// errSourceBroken is the failure of a source cut off mid-stream, as a
// truncated file reports it.
var errSourceBroken = errors.New("storagetest: source broken mid-stream")
