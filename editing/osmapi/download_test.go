package osmapi

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// downloadedVersion is one element of a changeset's download, with what
// a client compares against history.
type downloadedVersion struct {
	Action    string
	Type      string
	ID        int64
	Version   int
	Changeset int64
	Timestamp string
}

func (v downloadedVersion) String() string {
	return fmt.Sprintf("%s %s %d v%d c%d %s", v.Action, v.Type, v.ID, v.Version, v.Changeset, v.Timestamp)
}

func (s *editServer) download(cs int64) []downloadedVersion {
	s.t.Helper()
	r := s.call(nil, http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d/download", cs), nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("download changeset %d: %s", cs, r)
	}
	var osc struct {
		Blocks []struct {
			XMLName  xml.Name
			Elements []struct {
				XMLName   xml.Name
				ID        int64  `xml:"id,attr"`
				Version   int    `xml:"version,attr"`
				Changeset int64  `xml:"changeset,attr"`
				Timestamp string `xml:"timestamp,attr"`
			} `xml:",any"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(r.body, &osc); err != nil {
		s.t.Fatalf("parse the download of changeset %d: %v\n%s", cs, err, r.body)
	}
	var got []downloadedVersion
	for _, b := range osc.Blocks {
		for _, e := range b.Elements {
			got = append(got, downloadedVersion{b.XMLName.Local, e.XMLName.Local, e.ID, e.Version, e.Changeset, e.Timestamp})
		}
	}
	return got
}

// historyVersion reads one version anonymously, as a client checking a
// download against history does.
func (s *editServer) historyVersion(typ string, id int64, version int) downloadedVersion {
	s.t.Helper()
	r := s.call(nil, http.MethodGet, fmt.Sprintf("/api/0.6/%s/%d/%d", typ, id, version), nil)
	if r.status != http.StatusOK {
		s.t.Errorf("%s %d v%d: %s", typ, id, version, r)
		return downloadedVersion{}
	}
	var doc struct {
		Elements []struct {
			XMLName   xml.Name
			ID        int64  `xml:"id,attr"`
			Version   int    `xml:"version,attr"`
			Changeset int64  `xml:"changeset,attr"`
			Timestamp string `xml:"timestamp,attr"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil || len(doc.Elements) != 1 {
		s.t.Fatalf("parse %s %d v%d: %v\n%s", typ, id, version, err, r.body)
	}
	e := doc.Elements[0]
	return downloadedVersion{Type: e.XMLName.Local, ID: e.ID, Version: e.Version, Changeset: e.Changeset, Timestamp: e.Timestamp}
}

// TestDownloadMerged: once a changeset is merged, its download shows the
// versions the merge made, as history has them (final version numbers,
// the merge time), not the provisional versions and upload times of its
// pending rows; also after a later merge changed the same elements.
// Before the merge it shows what was staged.
func TestDownloadMerged(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			closeChangeset := func(cs int64) {
				t.Helper()
				if r := s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), nil); r.status != http.StatusOK {
					t.Fatalf("close changeset %d: %s", cs, r)
				}
			}
			merge := func(cs int64) {
				t.Helper()
				if _, err := s.store.Merge(t.Context(), cs); err != nil {
					t.Fatalf("merge changeset %d: %v", cs, err)
				}
			}
			// Checks the download against history, and its versions.
			check := func(cs int64, want []string) {
				t.Helper()
				var got []string
				for _, v := range s.download(cs) {
					if h := s.historyVersion(v.Type, v.ID, v.Version); h.Changeset != v.Changeset || h.Timestamp != v.Timestamp {
						t.Errorf("download of changeset %d: %s; history has v%d of changeset %d at %s", cs, v, h.Version, h.Changeset, h.Timestamp)
					}
					got = append(got, fmt.Sprintf("%s %s %d v%d", v.Action, v.Type, v.ID, v.Version))
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("download of changeset %d: %v; want %v", cs, got, want)
				}
			}

			// A node created and modified twice (provisional v3), and
			// node 6 modified (v2).
			first := s.openChangeset(ana)
			d := s.mustUpload(ana, first, `<osmChange>
				<create><node id="-1" lat="0.01" lon="0.01" changeset="%d"/></create>
				<modify><node id="-1" version="1" lat="0.011" lon="0.01" changeset="%d"/></modify>
				<modify><node id="6" version="1" lat="0.0002" lon="0.0002" changeset="%d"/></modify></osmChange>`)
			created := newID(t, d[0])
			if d = s.mustUpload(ana, first, fmt.Sprintf(`<osmChange><modify><node id="%d" version="2" lat="0.012" lon="0.01" changeset="%%d"/></modify></osmChange>`, created)); d[0].NewVersion != "3" {
				t.Fatalf("the second modify of the new node answered v%s, want 3", d[0].NewVersion)
			}
			closeChangeset(first)
			staged := s.download(first)
			var stagedVersions []string
			for _, v := range staged {
				stagedVersions = append(stagedVersions, fmt.Sprintf("%s %s %d v%d", v.Action, v.Type, v.ID, v.Version))
			}
			slices.Sort(stagedVersions)
			if want := []string{fmt.Sprintf("create node %d v3", created), "modify node 6 v2"}; !slices.Equal(stagedVersions, want) {
				t.Errorf("download of the submitted changeset: %v; want the staged %v", stagedVersions, want)
			}

			merge(first)
			check(first, []string{fmt.Sprintf("create node %d v1", created), "modify node 6 v2"})

			// The next changeset cites the provisional v3; once it merged,
			// the first changeset's versions are found in history.
			second := s.openChangeset(ana)
			s.mustUpload(ana, second, fmt.Sprintf(`<osmChange><modify><node id="%d" version="3" lat="0.013" lon="0.01" changeset="%%d"/></modify></osmChange>`, created))
			closeChangeset(second)
			merge(second)
			check(first, []string{fmt.Sprintf("create node %d v1", created), "modify node 6 v2"})
			check(second, []string{fmt.Sprintf("modify node %d v2", created)})
		})
	}
}
