package editing

import "net/http"

// The answers to requests over the limits a hostile or runaway client
// meets (issue 9) that neither cgimap nor openstreetmap-website has a
// text for, in the same golden table as the rest.
const (
	ErrPayloadInflatesTooMuch ErrorKind = iota + 7000 // ratio
	ErrBodyTooSlow                                    //
	ErrTooManyOpenChangesets                          // limit
	ErrTooManyTags                                    // limit
	ErrTooManyIDs                                     // parameter, count, limit
)

func init() {
	for k, g := range limitsGolden {
		Golden[k] = g
	}
}

// limitsGolden holds the rows of the limits; init adds them to Golden.
var limitsGolden = map[ErrorKind]GoldenText{
	ErrPayloadInflatesTooMuch: {
		Status: http.StatusRequestEntityTooLarge,
		Text:   "Payload exceeds limit of %d times its compressed size after decompression",
		Source: "geocommuns: the ratio counterpart of cgimap's \"Payload exceeds limit of %d bytes\" (src/request.cpp " +
			"request::get_payload, 413), which bounds only the decompressed size",
	},
	ErrBodyTooSlow: {
		Status: http.StatusRequestTimeout, Text: "Request body not received in time",
		Source: "geocommuns: cgimap leaves slow clients to the web server in front of it (lighttpd, Apache " +
			"RequestReadTimeout answers 408 Request Timeout)",
	},
	ErrTooManyOpenChangesets: {
		Status: http.StatusTooManyRequests,
		Text:   "You have reached the limit of %d open changesets; close one before opening another",
		Source: "geocommuns: neither cgimap nor openstreetmap-website limits open changesets; the status is that of " +
			"cgimap's rate limit (src/api06/changeset_upload_handler.cpp, http::too_many_requests)",
	},
	ErrTooManyTags: {
		Status: http.StatusBadRequest, Text: "OSM element exceeds limit of %d tags",
		Source: "cgimap include/cgimap/api06/changeset_upload/osmobject.hpp OSMObject::is_valid; status in " +
			"test/test_parse_osmchange_xml_input.cpp \"Create node, tags >= max tags\"",
	},
	ErrTooManyIDs: {
		Status: http.StatusBadRequest,
		Text:   "The parameter %s lists %d elements, more than the limit of %d in one request",
		Source: "geocommuns: neither cgimap (src/api06/handler_utils.cpp parse_id_list_params) nor " +
			"openstreetmap-website (NodesController#index) bounds the list; on openstreetmap.org the web server's " +
			"request line (Apache LimitRequestLine, 8190 bytes) does, which fits fewer distinct ids than our limit",
	},
}
