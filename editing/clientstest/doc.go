// Package clientstest holds the end-to-end tests that drive a real
// `geocommuns serve` with unmodified third-party OSM API clients: Debian's
// python3-osmapi, the npm package osm-api, paulmach/osm's osmapi and
// golang.org/x/oauth2. The clients' own scripts live beside the tests
// (python/, node/); scripts/setup installs the clients. The package has
// no code of its own: everything is in its tests.
package clientstest
