// Package osmchange reads the request bodies of OSM API 0.6 writes: the
// osmChange document of POST /api/0.6/changeset/ID/upload, streamed and
// strictly in document order (NewReader), the <osm><changeset> body of
// changeset create and update (ReadChangeset), and the single-element
// bodies of PUT and DELETE /api/0.6/{node,way,relation} (ReadElement).
//
// Faults are *Error values carrying cgimap's status and text, with the
// line and column cgimap reports; GoldenErrors lists every text with the
// test or source it was transcribed from. Limits bound what a body may
// hold, and are checked while streaming. The package sits beside osmdata
// on the ground floor: it imports nothing else of geocommuns.
package osmchange
