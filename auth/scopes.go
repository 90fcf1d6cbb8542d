package auth

import "slices"

// The OAuth 2 scopes, as openstreetmap.org names them
// (openstreetmap-website lib/oauth.rb SCOPES). write_api is what
// uploads need; read_prefs is what editors ask for to read user details.
const (
	ScopeReadPrefs  = "read_prefs"
	ScopeWritePrefs = "write_prefs"
	ScopeWriteDiary = "write_diary"
	ScopeWriteAPI   = "write_api"
	ScopeReadGPX    = "read_gpx"
	ScopeWriteGPX   = "write_gpx"
	ScopeWriteNotes = "write_notes"
)

// AllScopes is every scope, in openstreetmap.org's order. HTTP Basic and
// API tokens grant all of them, as Basic did on openstreetmap.org
// (ClientApplication.all_permissions).
var AllScopes = []string{
	ScopeReadPrefs, ScopeWritePrefs, ScopeWriteDiary, ScopeWriteAPI,
	ScopeReadGPX, ScopeWriteGPX, ScopeWriteNotes,
}

// ScopeDescriptions say what each scope lets an application do, for the
// consent page (openstreetmap-website config/locales/en.yml
// oauth.authorize.scopes).
var ScopeDescriptions = map[string]string{
	ScopeReadPrefs:  "Read user preferences",
	ScopeWritePrefs: "Modify user preferences",
	ScopeWriteDiary: "Create diary entries, comments and make friends",
	ScopeWriteAPI:   "Modify the map",
	ScopeReadGPX:    "Read private GPS traces",
	ScopeWriteGPX:   "Upload GPS traces",
	ScopeWriteNotes: "Modify notes",
}

// IsScope says whether s is one of AllScopes.
func IsScope(s string) bool { return slices.Contains(AllScopes, s) }
