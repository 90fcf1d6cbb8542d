package osmapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/storage"
)

// The capabilities and versions documents come from openstreetmap-website
// (cgimap does not serve them): app/views/api/capabilities/show.builder
// and show.json.jbuilder, app/views/api/versions/show.builder and
// show.json.jbuilder, with openstreetmap.org's values from
// config/settings.yml and app/models/changeset.rb.
const (
	apiVersion            = "0.6"
	maxNoteRequestArea    = 25
	tracepointsPerPage    = 5000
	defaultChangesetQuery = 100
	maxChangesetQuery     = 100
	defaultNoteQuery      = 100
	maxNoteQuery          = 10000
	statusOnline          = "online"
)

// imageryBlacklist is openstreetmap.org's imagery that editors must not
// offer (config/settings.yml imagery_blacklist).
var imageryBlacklist = []string{
	`.*\.google(apis)?\..*/(vt|kh)[\?/].*([xyz]=.*){3}.*`,
	`http://xdworld\.vworld\.kr:8080/.*`,
	`.*\.here\.com[/:].*`,
}

type jsonLimit struct {
	Maximum any `json:"maximum"`
}

type jsonQueryLimits struct {
	MaximumElements   int `json:"maximum_elements,omitempty"`
	DefaultQueryLimit int `json:"default_query_limit"`
	MaximumQueryLimit int `json:"maximum_query_limit"`
}

type jsonRegex struct {
	Regex string `json:"regex"`
}

// jsonCapabilities has the fields of show.json.jbuilder in its order.
type jsonCapabilities struct {
	Version     string `json:"version"`
	Generator   string `json:"generator"`
	Copyright   string `json:"copyright"`
	Attribution string `json:"attribution"`
	License     string `json:"license"`
	API         struct {
		Version struct {
			Minimum string `json:"minimum"`
			Maximum string `json:"maximum"`
		} `json:"version"`
		Area        jsonLimit `json:"area"`
		NoteArea    jsonLimit `json:"note_area"`
		Tracepoints struct {
			PerPage int `json:"per_page"`
		} `json:"tracepoints"`
		Waynodes        jsonLimit       `json:"waynodes"`
		RelationMembers jsonLimit       `json:"relationmembers"`
		Changesets      jsonQueryLimits `json:"changesets"`
		Notes           jsonQueryLimits `json:"notes"`
		Timeout         struct {
			Seconds int `json:"seconds"`
		} `json:"timeout"`
		Status struct {
			Database string `json:"database"`
			API      string `json:"api"`
			GPX      string `json:"gpx"`
		} `json:"status"`
	} `json:"api"`
	Policy struct {
		Imagery struct {
			Blacklist []jsonRegex `json:"blacklist"`
		} `json:"imagery"`
	} `json:"policy"`
}

func (a *API) capabilitiesJSON() jsonCapabilities {
	h := a.header()
	var c jsonCapabilities
	c.Version, c.Generator, c.Copyright, c.Attribution, c.License = apiVersion, h.Generator, h.Copyright, h.Attribution, h.License
	c.API.Version.Minimum, c.API.Version.Maximum = apiVersion, apiVersion
	c.API.Area.Maximum = a.maxMapArea()
	c.API.NoteArea.Maximum = maxNoteRequestArea
	c.API.Tracepoints.PerPage = tracepointsPerPage
	// What uploads and single-element writes enforce: the editing
	// service's limits, which the operator may have set.
	limits := a.editingLimits()
	c.API.Waynodes.Maximum = limits.MaxWayNodes
	c.API.RelationMembers.Maximum = limits.MaxRelationMembers
	c.API.Changesets = jsonQueryLimits{limits.MaxChangesetChanges, defaultChangesetQuery, maxChangesetQuery}
	c.API.Notes = jsonQueryLimits{0, defaultNoteQuery, maxNoteQuery}
	c.API.Timeout.Seconds = int(a.timeout().Seconds())
	c.API.Status.Database, c.API.Status.API, c.API.Status.GPX = statusOnline, statusOnline, statusOnline
	for _, re := range imageryBlacklist {
		c.Policy.Imagery.Blacklist = append(c.Policy.Imagery.Blacklist, jsonRegex{re})
	}
	return c
}

// editingLimits are the limits writes enforce; a read-only API
// announces openstreetmap.org's.
func (a *API) editingLimits() editing.Limits {
	if edit := a.editingService(); edit != nil {
		return edit.Limits()
	}
	return editing.Limits{MaxWayNodes: editing.DefaultMaxWayNodes, MaxRelationMembers: editing.DefaultMaxRelationMembers,
		MaxChangesetChanges: storage.MaxChangesetChanges}
}

// rootAttributes is the <osm> element's attributes, version first unless
// left out.
func (a *API) rootAttributes(withVersion bool) string {
	h := a.header()
	s := ""
	if withVersion {
		s = fmt.Sprintf(` version="%s"`, apiVersion)
	}
	return s + fmt.Sprintf(` generator="%s" copyright="%s" attribution="%s" license="%s"`,
		xmlEscape(h.Generator), xmlEscape(h.Copyright), xmlEscape(h.Attribution), xmlEscape(h.License))
}

func (a *API) writeCapabilitiesXML(w io.Writer) error {
	c := a.capabilitiesJSON()
	api := c.API
	num := func(v any) string { return fmt.Sprint(v) }
	_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<osm%s>
  <api>
    <version minimum="%s" maximum="%s"/>
    <area maximum="%s"/>
    <note_area maximum="%s"/>
    <tracepoints per_page="%d"/>
    <waynodes maximum="%s"/>
    <relationmembers maximum="%s"/>
    <changesets maximum_elements="%d" default_query_limit="%d" maximum_query_limit="%d"/>
    <notes default_query_limit="%d" maximum_query_limit="%d"/>
    <timeout seconds="%d"/>
    <status database="%s" api="%s" gpx="%s"/>
  </api>
  <policy>
    <imagery>
`, a.rootAttributes(true), api.Version.Minimum, api.Version.Maximum,
		strconv.FormatFloat(a.maxMapArea(), 'f', -1, 64), num(api.NoteArea.Maximum), api.Tracepoints.PerPage,
		num(api.Waynodes.Maximum), num(api.RelationMembers.Maximum),
		api.Changesets.MaximumElements, api.Changesets.DefaultQueryLimit, api.Changesets.MaximumQueryLimit,
		api.Notes.DefaultQueryLimit, api.Notes.MaximumQueryLimit, api.Timeout.Seconds,
		api.Status.Database, api.Status.API, api.Status.GPX)
	if err != nil {
		return err
	}
	for _, re := range imageryBlacklist {
		if _, err := fmt.Fprintf(w, "      <blacklist regex=\"%s\"/>\n", xmlEscape(re)); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "    </imagery>\n  </policy>\n</osm>\n")
	return err
}

// capabilities is GET /api/capabilities and /api/0.6/capabilities.
func (a *API) capabilities(w http.ResponseWriter, r *http.Request) {
	body, f, finish, ok := a.startReply(w, r, availableFormats, nil)
	if !ok {
		return
	}
	var err error
	if f == formatJSON {
		err = json.NewEncoder(body).Encode(a.capabilitiesJSON())
	} else {
		err = a.writeCapabilitiesXML(body)
	}
	a.finishSmallReply(r, finish, err)
}

// versions is GET /api/versions: the API versions served.
func (a *API) versions(w http.ResponseWriter, r *http.Request) {
	body, f, finish, ok := a.startReply(w, r, availableFormats, nil)
	if !ok {
		return
	}
	var err error
	if f == formatJSON {
		h := a.header()
		err = json.NewEncoder(body).Encode(struct {
			Version     string `json:"version"`
			Generator   string `json:"generator"`
			Copyright   string `json:"copyright"`
			Attribution string `json:"attribution"`
			License     string `json:"license"`
			API         struct {
				Versions []string `json:"versions"`
			} `json:"api"`
		}{Version: apiVersion, Generator: h.Generator, Copyright: h.Copyright, Attribution: h.Attribution,
			License: h.License, API: struct {
				Versions []string `json:"versions"`
			}{[]string{apiVersion}}})
	} else {
		// No version attribute on the root here (openstreetmap-website
		// test/controllers/api/versions_controller_test.rb
		// test_no_version_in_root_element).
		_, err = fmt.Fprintf(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm%s>\n  <api>\n    <version>%s</version>\n  </api>\n</osm>\n",
			a.rootAttributes(false), apiVersion)
	}
	a.finishSmallReply(r, finish, err)
}

func (a *API) finishSmallReply(r *http.Request, finish func() error, err error) {
	if ferr := finish(); err == nil {
		err = ferr
	}
	if err != nil {
		a.logger().Info("reply cut short", "path", r.URL.Path, "err", err)
	}
}
