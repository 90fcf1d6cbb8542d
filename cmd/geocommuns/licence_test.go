package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// dataTerms is what every document says about the data: copyright,
// attribution and licence, as openstreetmap.org writes them on its
// root element.
type dataTerms struct {
	copyright, attribution, license string
}

// osmTerms are openstreetmap.org's, which geocommuns writes unless told
// otherwise: the data it starts from is usually an OSM extract.
var osmTerms = dataTerms{
	copyright:   "OpenStreetMap and contributors",
	attribution: "http://www.openstreetmap.org/copyright",
	license:     "http://opendatacommons.org/licenses/odbl/1-0/",
}

// etalabTerms are a French public body's: the copyright has an
// apostrophe, a quote and non-ASCII letters, the attribution URL an
// ampersand, so that they are escaped, not merely copied, in every
// writer.
var etalabTerms = dataTerms{
	copyright:   `Commune d'Éaux-Vives et contributeurs, "Licence Ouverte 2.0"`,
	attribution: "https://www.example.gouv.fr/donnees?jeu=voirie&format=osm",
	license:     "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
}

func (d dataTerms) flags() []string {
	return []string{"--copyright", d.copyright, "--attribution", d.attribution, "--license", d.license}
}

func (d dataTerms) environment() []string {
	return []string{"GEOCOMMUNS_COPYRIGHT=" + d.copyright, "GEOCOMMUNS_ATTRIBUTION=" + d.attribution, "GEOCOMMUNS_LICENSE=" + d.license}
}

// xmlRootTerms reads the terms off the root element of an XML document,
// and names the root.
func xmlRootTerms(doc []byte) (string, dataTerms, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", dataTerms{}, fmt.Errorf("no root element: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var d dataTerms
		for _, a := range start.Attr {
			switch a.Name.Local {
			case "copyright":
				d.copyright = a.Value
			case "attribution":
				d.attribution = a.Value
			case "license":
				d.license = a.Value
			}
		}
		return start.Name.Local, d, nil
	}
}

// jsonRootTerms reads the terms off the top level of a JSON reply.
func jsonRootTerms(doc []byte) (dataTerms, error) {
	var top struct {
		Copyright   string `json:"copyright"`
		Attribution string `json:"attribution"`
		License     string `json:"license"`
	}
	if err := json.Unmarshal(doc, &top); err != nil {
		return dataTerms{}, err
	}
	return dataTerms{top.Copyright, top.Attribution, top.License}, nil
}

// checkXMLTerms checks that doc's root is root and carries want.
func checkXMLTerms(t *testing.T, what string, doc []byte, root string, want dataTerms) {
	t.Helper()
	name, got, err := xmlRootTerms(doc)
	if err != nil {
		t.Errorf("%s: %v\n%.300s", what, err, doc)
		return
	}
	if name != root || got != want {
		t.Errorf("%s: <%s> says %+v, want <%s> saying %+v", what, name, got, root, want)
	}
}

func checkJSONTerms(t *testing.T, what string, doc []byte, want dataTerms) {
	t.Helper()
	got, err := jsonRootTerms(doc)
	if err != nil {
		t.Errorf("%s: %v\n%.300s", what, err, doc)
		return
	}
	if got != want {
		t.Errorf("%s says %+v, want %+v", what, got, want)
	}
}

// getOK fetches path and fails the test unless it answers 200.
func (s *serveProcess) getOK(t *testing.T, path string) []byte {
	t.Helper()
	status, body := s.get(t, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", path, status, body)
	}
	return []byte(body)
}

// checkReadTerms checks the terms on the reads a user of the OSM API
// makes first: capabilities (both paths), map, an element, its history,
// in XML and JSON.
func checkReadTerms(t *testing.T, s *serveProcess, want dataTerms) {
	t.Helper()
	const bbox = "1.4,42.4,1.7,42.7"
	for _, path := range []string{"/api/capabilities", "/api/0.6/capabilities"} {
		checkXMLTerms(t, path, s.getOK(t, path), "osm", want)
	}
	checkXMLTerms(t, "map", s.getOK(t, "/api/0.6/map?bbox="+bbox), "osm", want)
	checkXMLTerms(t, "node", s.getOK(t, "/api/0.6/node/1"), "osm", want)
	checkXMLTerms(t, "history", s.getOK(t, "/api/0.6/node/1/history"), "osm", want)
	checkJSONTerms(t, "capabilities.json", s.getOK(t, "/api/0.6/capabilities.json"), want)
	checkJSONTerms(t, "map.json", s.getOK(t, "/api/0.6/map.json?bbox="+bbox), want)
	checkJSONTerms(t, "node.json", s.getOK(t, "/api/0.6/node/1.json"), want)
}

// exportTerms runs export with env and returns what the file's root says.
func exportTerms(t *testing.T, ds dataset, path string, env []string) dataTerms {
	t.Helper()
	res := runBinary(t, env, append(append([]string{"export"}, ds.flags...), path)...)
	if res.exit != 0 {
		t.Fatalf("export: exit %d\n%s", res.exit, res.stderr)
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name, got, err := xmlRootTerms(doc)
	if err != nil || name != "osm" {
		t.Fatalf("export %s: root <%s>, %v", path, name, err)
	}
	return got
}

// TestDataTermsAreConfiguration: an operator publishing under Licence
// Ouverte 2.0 says so once (serve's flags, export's environment) and
// every document says it: the OSM API's reads in XML and JSON, an
// upload's diffResult, a changeset and its download, the replication
// feed's osmChange file and the export. Without the flags, everything
// says openstreetmap.org's terms, as before.
func TestDataTermsAreConfiguration(t *testing.T) {
	ds := newDataset(t, "sqlite")
	dir := t.TempDir()
	importSmallExtract(t, ds, dir)
	mapper := trustedMappers(t, ds.flags, 1)[0]

	s := startServe(t, append(append(ds.flags, "--replication-interval", "0"), etalabTerms.flags()...)...)
	checkReadTerms(t, s, etalabTerms)

	cs, err := mapper.open(s.base)
	if err != nil {
		t.Fatal(err)
	}
	diffResult, err := mapper.do(http.MethodPost, fmt.Sprintf("%s/api/0.6/changeset/%d/upload", s.base, cs),
		fmt.Sprintf(`<osmChange version="0.6"><modify><node id="2" changeset="%d" version="1" lat="42.61" lon="1.6"/></modify></osmChange>`, cs))
	if err != nil {
		t.Fatal(err)
	}
	checkXMLTerms(t, "diffResult", []byte(diffResult), "diffResult", etalabTerms)
	if err := mapper.close(s.base, cs); err != nil {
		t.Fatal(err)
	}
	checkXMLTerms(t, "changeset", s.getOK(t, fmt.Sprintf("/api/0.6/changeset/%d", cs)), "osm", etalabTerms)
	checkJSONTerms(t, "changeset.json", s.getOK(t, fmt.Sprintf("/api/0.6/changeset/%d.json", cs)), etalabTerms)
	checkXMLTerms(t, "changeset download", s.getOK(t, fmt.Sprintf("/api/0.6/changeset/%d/download", cs)), "osmChange", etalabTerms)

	if st := waitFeed(t, s.base, 1); st.Seq != 1 {
		t.Fatalf("the merge went into replication file %d, want 1", st.Seq)
	}
	checkXMLTerms(t, "replication file 1", gunzip(t, s.getOK(t, "/replication/minute/000/000/001.osc.gz")), "osmChange", etalabTerms)

	if got := exportTerms(t, ds, filepath.Join(dir, "etalab.osm"), etalabTerms.environment()); got != etalabTerms {
		t.Errorf("export with GEOCOMMUNS_COPYRIGHT, _ATTRIBUTION, _LICENSE says %+v, want %+v", got, etalabTerms)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("serve exited %d after SIGTERM\n%s", code, s.log())
	}

	plain := startServe(t, ds.flags...)
	checkReadTerms(t, plain, osmTerms)
	if code := plain.stop(t); code != 0 {
		t.Errorf("serve exited %d after SIGTERM\n%s", code, plain.log())
	}
	if got := exportTerms(t, ds, filepath.Join(dir, "plain.osm"), nil); got != osmTerms {
		t.Errorf("export without flags says %+v, want openstreetmap.org's %+v", got, osmTerms)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}
