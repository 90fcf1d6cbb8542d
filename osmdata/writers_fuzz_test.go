package osmdata_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
)

// FuzzDocumentWriters writes any element with the API's XML and JSON
// writers and reads both documents back with encoding/xml and
// encoding/json: each is well-formed whatever the element holds, and
// reads as the element (type, id, version, changeset, visibility, time
// in whole seconds, user, position to the last 1e-7 degree, nodes,
// members), strings byte for byte when XML can carry them (valid UTF-8,
// XML 1.0 characters: all a client can upload); what it cannot carry
// reads as U+FFFD, in place, the rest of the string unchanged.
func FuzzDocumentWriters(f *testing.F) {
	f.Add(uint8(1), int64(1), 1, int64(2), int32(515000000), int32(-1000000), int64(1600000000), int64(7), "ana", "name", "Rue \"d'<exemple>\" & co", "", int64(0), true)
	f.Add(uint8(2), int64(-1), 0, int64(0), int32(0), int32(0), int64(0), int64(0), "", "a\tb\nc\rd", "\u00e9\u200f\U0001F600", "", int64(5), true)
	f.Add(uint8(3), int64(9223372036854775807), 2147483647, int64(-1), int32(-2147483648), int32(2147483647), int64(253402300799), int64(-1), "x\x00y", "k\xff", "\ufffe\uffff\x1f", "outer\x7f", int64(-9), false)
	f.Add(uint8(1), int64(5), 3, int64(1), int32(900000000), int32(-1800000000), int64(-62135596800), int64(1), "]]>", "&amp;", "\\u0000\"", "r", int64(1), false)
	f.Fuzz(func(t *testing.T, typ uint8, id int64, version int, changeset int64, lat, lon int32, unix, uid int64, user, key, value, role string, ref int64, visible bool) {
		e := osmdata.Element{
			Type: osmdata.ElementTypes[int(typ)%3], ID: id, Version: version, Changeset: changeset, Visible: visible,
			UID: uid, User: user, Lat: lat, Lon: lon,
		}
		// Timestamps are whole seconds of years 1 to 9999, what RFC
		// 3339 writes; zero is no timestamp.
		if unix != 0 {
			const first, last = -62135596800, 253402300799
			e.Timestamp = time.Unix(first+(unix%(last-first)+(last-first))%(last-first), 0).UTC()
		}
		if key != "" {
			e.Tags = osmdata.Tags{{Key: key, Value: value}, {Key: key + "\x00second", Value: ""}}
		}
		switch e.Type {
		case osmdata.Way:
			e.Nodes = []int64{ref, id, -ref}
		case osmdata.Relation:
			e.Members = []osmdata.Member{{Type: osmdata.Node, Ref: ref, Role: role}, {Type: osmdata.Relation, Ref: id, Role: ""}}
		}

		var xmlDoc, jsonDoc bytes.Buffer
		for _, w := range []struct {
			dw  osmdata.DocumentWriter
			buf *bytes.Buffer
		}{{osmdata.NewXMLWriter(&xmlDoc, osmdata.DocumentHeader{Generator: user}), &xmlDoc}, {osmdata.NewJSONWriter(&jsonDoc, osmdata.DocumentHeader{Generator: user}), &jsonDoc}} {
			if err := w.dw.WriteElement(&e); err != nil {
				t.Fatal(err)
			}
			if err := w.dw.WriteElement(&e); err != nil {
				t.Fatal(err)
			}
			if err := w.dw.Close(); err != nil {
				t.Fatal(err)
			}
		}
		fromXML, err := readXMLElements(xmlDoc.Bytes())
		if err != nil {
			t.Fatalf("the XML writer's document does not read (%v):\n%s", err, xmlDoc.Bytes())
		}
		fromJSON, err := readJSONElements(jsonDoc.Bytes())
		if err != nil {
			t.Fatalf("the JSON writer's document does not read (%v):\n%s", err, jsonDoc.Bytes())
		}
		for name, got := range map[string][]osmdata.Element{"XML": fromXML, "JSON": fromJSON} {
			want := carried(e, name == "XML")
			if d := cmp.Diff([]osmdata.Element{want, want}, got); d != "" {
				t.Fatalf("the %s writer's document reads differently (-element +read):\n%s", name, d)
			}
		}
	})
}

// carried is e as a document can carry it: its strings with invalid
// UTF-8, and in XML what XML 1.0 cannot hold (controls, U+FFFE,
// U+FFFF), as U+FFFD; a position only for a visible node.
func carried(e osmdata.Element, inXML bool) osmdata.Element {
	xmlString := func(s string) string { return carriedString(s, inXML) }
	e.User = xmlString(e.User)
	if e.Type != osmdata.Node || !e.Visible {
		e.Lat, e.Lon = 0, 0
	}
	if e.Tags != nil {
		tags := make(osmdata.Tags, len(e.Tags))
		for i, tag := range e.Tags {
			tags[i] = osmdata.Tag{Key: xmlString(tag.Key), Value: xmlString(tag.Value)}
		}
		e.Tags = tags
	}
	if e.Members != nil {
		members := make([]osmdata.Member, len(e.Members))
		for i, m := range e.Members {
			m.Role = xmlString(m.Role)
			members[i] = m
		}
		e.Members = members
	}
	return e
}

func carriedString(s string, inXML bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (inXML && !isXMLChar(r)) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// isXMLChar is XML 1.0's Char production (§2.2).
func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

type xmlElement struct {
	XMLName   xml.Name
	ID        int64  `xml:"id,attr"`
	Visible   bool   `xml:"visible,attr"`
	Version   int    `xml:"version,attr"`
	Changeset int64  `xml:"changeset,attr"`
	Timestamp string `xml:"timestamp,attr"`
	User      string `xml:"user,attr"`
	UID       int64  `xml:"uid,attr"`
	Lat       string `xml:"lat,attr"`
	Lon       string `xml:"lon,attr"`
	Nodes     []struct {
		Ref int64 `xml:"ref,attr"`
	} `xml:"nd"`
	Members []struct {
		Type string `xml:"type,attr"`
		Ref  int64  `xml:"ref,attr"`
		Role string `xml:"role,attr"`
	} `xml:"member"`
	Tags []struct {
		K string `xml:"k,attr"`
		V string `xml:"v,attr"`
	} `xml:"tag"`
}

func readXMLElements(doc []byte) ([]osmdata.Element, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var out []osmdata.Element
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local == "osm" {
			continue
		}
		var x xmlElement
		if err := dec.DecodeElement(&x, &start); err != nil {
			return nil, err
		}
		typ, err := osmdata.ParseElementType(x.XMLName.Local)
		if err != nil {
			return nil, err
		}
		e := osmdata.Element{Type: typ, ID: x.ID, Visible: x.Visible, Version: x.Version, Changeset: x.Changeset, User: x.User, UID: x.UID}
		if e.Timestamp, err = readTimestamp(x.Timestamp); err != nil {
			return nil, err
		}
		if e.Lat, e.Lon, err = readPosition(x.Lat, x.Lon); err != nil {
			return nil, err
		}
		for _, nd := range x.Nodes {
			e.Nodes = append(e.Nodes, nd.Ref)
		}
		for _, m := range x.Members {
			mt, err := osmdata.ParseElementType(m.Type)
			if err != nil {
				return nil, err
			}
			e.Members = append(e.Members, osmdata.Member{Type: mt, Ref: m.Ref, Role: m.Role})
		}
		for _, tag := range x.Tags {
			e.Tags = append(e.Tags, osmdata.Tag{Key: tag.K, Value: tag.V})
		}
		out = append(out, e)
	}
}

type jsonElement struct {
	Type      string      `json:"type"`
	ID        int64       `json:"id"`
	Lat       json.Number `json:"lat"`
	Lon       json.Number `json:"lon"`
	Timestamp string      `json:"timestamp"`
	Version   int         `json:"version"`
	Changeset int64       `json:"changeset"`
	User      string      `json:"user"`
	UID       int64       `json:"uid"`
	Visible   *bool       `json:"visible"`
	Nodes     []int64     `json:"nodes"`
	Members   []struct {
		Type string `json:"type"`
		Ref  int64  `json:"ref"`
		Role string `json:"role"`
	} `json:"members"`
	// Tags keep their order: a JSON object read into a map would not.
	Tags json.RawMessage `json:"tags"`
}

func readJSONElements(doc []byte) ([]osmdata.Element, error) {
	var d struct {
		Version  string        `json:"version"`
		Elements []jsonElement `json:"elements"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if d.Version != "0.6" {
		return nil, fmt.Errorf("version %q", d.Version)
	}
	var out []osmdata.Element
	for _, j := range d.Elements {
		typ, err := osmdata.ParseElementType(j.Type)
		if err != nil {
			return nil, err
		}
		e := osmdata.Element{Type: typ, ID: j.ID, Visible: j.Visible == nil || *j.Visible, Version: j.Version, Changeset: j.Changeset, User: j.User, UID: j.UID}
		if e.Timestamp, err = readTimestamp(j.Timestamp); err != nil {
			return nil, err
		}
		if e.Lat, e.Lon, err = readPosition(string(j.Lat), string(j.Lon)); err != nil {
			return nil, err
		}
		e.Nodes = j.Nodes
		for _, m := range j.Members {
			mt, err := osmdata.ParseElementType(m.Type)
			if err != nil {
				return nil, err
			}
			e.Members = append(e.Members, osmdata.Member{Type: mt, Ref: m.Ref, Role: m.Role})
		}
		if e.Tags, err = readJSONTags(j.Tags); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func readJSONTags(raw json.RawMessage) (osmdata.Tags, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("tags: %v %v", tok, err)
	}
	var tags osmdata.Tags
	for dec.More() {
		var k, v string
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ = tok.(string)
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		tags = append(tags, osmdata.Tag{Key: k, Value: v})
	}
	return tags, nil
}

func readTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse("2006-01-02T15:04:05Z", s)
}

func readPosition(lat, lon string) (int32, int32, error) {
	if lat == "" && lon == "" {
		return 0, 0, nil
	}
	la, err := osmdata.ParseFixedCoord(lat)
	if err != nil {
		return 0, 0, err
	}
	lo, err := osmdata.ParseFixedCoord(lon)
	return la, lo, err
}
