package connectapi_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// flat is an element as both APIs must agree on it: every field, tags
// and members in order, and whether the position was given at all.
type flat struct {
	Type      string
	ID        int64
	Version   int64
	Visible   bool
	Changeset int64
	Timestamp time.Time
	UID       int64
	User      string
	HasPos    bool
	Lat, Lon  int32
	Tags      [][2]string
	Nodes     []int64
	Members   []string
}

var protoTypeNames = map[geocommunsv1.ElementType]string{
	geocommunsv1.ElementType_ELEMENT_TYPE_NODE:     "node",
	geocommunsv1.ElementType_ELEMENT_TYPE_WAY:      "way",
	geocommunsv1.ElementType_ELEMENT_TYPE_RELATION: "relation",
}

func flatProto(e *geocommunsv1.Element) flat {
	f := flat{
		Type: protoTypeNames[e.GetType()], ID: e.GetId(), Version: e.GetVersion(), Visible: e.GetVisible(),
		Changeset: e.GetChangeset(), Timestamp: e.GetTimestamp().AsTime(), UID: e.GetUid(), User: e.GetUser(),
		HasPos: e.LatE7 != nil && e.LonE7 != nil, Lat: e.GetLatE7(), Lon: e.GetLonE7(), Nodes: e.GetNodes(),
	}
	for _, t := range e.GetTags() {
		f.Tags = append(f.Tags, [2]string{t.GetKey(), t.GetValue()})
	}
	for _, m := range e.GetMembers() {
		f.Members = append(f.Members, fmt.Sprintf("%s/%d/%s", protoTypeNames[m.GetType()], m.GetRef(), m.GetRole()))
	}
	return f
}

func flatProtos(els []*geocommunsv1.Element) []flat {
	out := make([]flat, len(els))
	for i, e := range els {
		out[i] = flatProto(e)
	}
	return out
}

// xmlElement decodes API 0.6 XML on its own terms (encoding/xml), not
// through any of our code, so that the comparison is with what an OSM
// client reads.
type xmlElement struct {
	XMLName   xml.Name
	ID        int64   `xml:"id,attr"`
	Version   int64   `xml:"version,attr"`
	Visible   string  `xml:"visible,attr"`
	Changeset int64   `xml:"changeset,attr"`
	Timestamp string  `xml:"timestamp,attr"`
	UID       int64   `xml:"uid,attr"`
	User      string  `xml:"user,attr"`
	Lat       *string `xml:"lat,attr"`
	Lon       *string `xml:"lon,attr"`
	Tags      []struct {
		K string `xml:"k,attr"`
		V string `xml:"v,attr"`
	} `xml:"tag"`
	Nds []struct {
		Ref int64 `xml:"ref,attr"`
	} `xml:"nd"`
	Members []struct {
		Type string `xml:"type,attr"`
		Ref  int64  `xml:"ref,attr"`
		Role string `xml:"role,attr"`
	} `xml:"member"`
}

// osmXML fetches an OSM API path and returns its elements in document
// order (bounds left out), or the HTTP status when it is not 200.
func osmXML(t *testing.T, base, path string) ([]flat, int) {
	t.Helper()
	return osmXMLWith(t, base, path, nil)
}

func osmXMLWith(t *testing.T, base, path string, prepare func(*http.Request)) ([]flat, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	var doc struct {
		Elements []xmlElement `xml:",any"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	var out []flat
	for _, x := range doc.Elements {
		if x.XMLName.Local == "bounds" {
			continue
		}
		ts, err := time.Parse(time.RFC3339, x.Timestamp)
		if err != nil {
			t.Fatalf("GET %s: timestamp %q: %v", path, x.Timestamp, err)
		}
		f := flat{Type: x.XMLName.Local, ID: x.ID, Version: x.Version, Visible: x.Visible == "true",
			Changeset: x.Changeset, Timestamp: ts, UID: x.UID, User: x.User}
		if x.Lat != nil && x.Lon != nil {
			f.HasPos = true
			if f.Lat, err = osmdata.ParseFixedCoord(*x.Lat); err != nil {
				t.Fatal(err)
			}
			if f.Lon, err = osmdata.ParseFixedCoord(*x.Lon); err != nil {
				t.Fatal(err)
			}
		}
		for _, tag := range x.Tags {
			f.Tags = append(f.Tags, [2]string{tag.K, tag.V})
		}
		for _, nd := range x.Nds {
			f.Nodes = append(f.Nodes, nd.Ref)
		}
		for _, m := range x.Members {
			f.Members = append(f.Members, fmt.Sprintf("%s/%d/%s", m.Type, m.Ref, m.Role))
		}
		out = append(out, f)
	}
	return out, http.StatusOK
}
