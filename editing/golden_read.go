package editing

import "net/http"

// The read errors of the OSM API (editing/osmapi), in the same golden
// table as the editing errors so that every text the API answers is in
// one place. cgimap answers a 404 as an empty HTML document and a 405 as
// an empty document with an Allow header; the HTTP layer decides that
// from the status.
const (
	ErrNotFound ErrorKind = iota + 1000
	ErrGone
	ErrMethodNotAllowed
	ErrBBoxFormat
	ErrBBoxRange
	ErrBBoxTooLarge
	ErrTooManyNodes
	ErrNodesParam
	ErrWaysParam
	ErrRelationsParam
	ErrNotAcceptable
	ErrEncodingNotAcceptable
	ErrAcceptEmpty
	ErrAcceptMalformed
	ErrAcceptMediaType
	ErrAcceptWildcard
	ErrAcceptParameter
	ErrAcceptQuality
	ErrInternal
)

func init() {
	for k, g := range readGolden {
		Golden[k] = g
	}
}

// readGolden holds the rows of the read errors; init adds them to Golden.
var readGolden = map[ErrorKind]GoldenText{
	ErrNotFound: {
		Status: http.StatusNotFound, Text: "",
		Source: "cgimap test/message.testcore/node_404.case (empty text/html body, Content-Length 0); " +
			"status for unknown ids, versions and routes: test/node.testcore/node_4.case, node_five.case, " +
			"node_version_missing.case, node_history_404.case, nodes_missing.case, nodes_non_numeric.case",
	},
	ErrGone: {
		Status: http.StatusGone, Text: "",
		Source: "cgimap test/node.testcore/node_3.case and test/relation_full.testcore/relation_2.case " +
			"(410 Gone); the body is http::gone's empty default message (include/cgimap/http.hpp)",
	},
	ErrMethodNotAllowed: {
		Status: http.StatusMethodNotAllowed, Text: "",
		Source: "cgimap test/map.testcore/method_not_allowed.case (Allow: GET, HEAD, OPTIONS; " +
			"Content-Type: text/html; Content-Length: 0); test/node.testcore/node_invalid_method_1.case",
	},
	ErrBBoxFormat: {
		Status: http.StatusBadRequest,
		Text:   "The parameter bbox is required, and must be of the form min_lon,min_lat,max_lon,max_lat.",
		Source: "cgimap test/map.testcore/bad_bbox_009.case (body and Error header); bad_bbox_001.case to bad_bbox_003.case",
	},
	ErrBBoxRange: {
		Status: http.StatusBadRequest,
		Text:   "The latitudes must be between -90 and 90, longitudes between -180 and 180 and the minima must be less than the maxima.",
		Source: "cgimap test/map.testcore/bad_bbox_004.case to bad_bbox_008.case (Error header)",
	},
	ErrBBoxTooLarge: {
		Status: http.StatusBadRequest,
		Text:   "The maximum bbox size is %f, and your request was too large. Either request a smaller area, or use planet.osm",
		Source: "cgimap src/api06/map_handler.cpp map_handler::validate_request (fmt \"{:f}\": 0.250000); " +
			"openstreetmap-website test/controllers/api/maps_controller_test.rb test_bbox_too_big has the same " +
			"sentence with Rails' number format (0.25)",
	},
	ErrTooManyNodes: {
		Status: http.StatusBadRequest,
		Text:   "You requested too many nodes (limit is %d). Either request a smaller area, or use planet.osm",
		Source: "cgimap test/map.testcore/too_many_nodes.case (400); text from src/api06/map_handler.cpp map_responder",
	},
	ErrNodesParam: {
		Status: http.StatusBadRequest,
		Text:   "The parameter nodes is required, and must be of the form nodes=ID[vVER][,ID[vVER][,ID[vVER]...]].",
		Source: "cgimap test/node.testcore/nodes_empty.case (400); text from src/api06/nodes_handler.cpp validate_request",
	},
	ErrWaysParam: {
		Status: http.StatusBadRequest,
		Text:   "The parameter ways is required, and must be of the form ways=ID[vVER][,ID[vVER][,ID[vVER]...]].",
		Source: "cgimap test/way.testcore/ways_empty.case (400); text from src/api06/ways_handler.cpp validate_request",
	},
	ErrRelationsParam: {
		Status: http.StatusBadRequest,
		Text:   "The parameter relations is required, and must be of the form relations=id[,id[,id...]].",
		Source: "cgimap test/relation.testcore/relations_empty.case (400); text from src/api06/relations_handler.cpp validate_request",
	},
	ErrNotAcceptable: {
		Status: http.StatusNotAcceptable,
		Text:   "Acceptable formats for %s are: %s",
		Source: "cgimap test/node.testcore/node_accept_unknown.case and node_conflicting_header.case (406); " +
			"text from src/choose_formatter.cpp choose_best_mime_type",
	},
	ErrEncodingNotAcceptable: {
		Status: http.StatusNotAcceptable,
		Text:   "No acceptable content encoding found. Only identity and gzip are supported.",
		Source: "cgimap src/http.cpp choose_encoding",
	},
	ErrAcceptEmpty: {
		Status: http.StatusBadRequest, Text: "Invalid empty accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	ErrAcceptMalformed: {
		Status: http.StatusBadRequest, Text: "Malformed accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	ErrAcceptMediaType: {
		Status: http.StatusBadRequest, Text: "Invalid accept header media type",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	ErrAcceptWildcard: {
		Status: http.StatusBadRequest, Text: "Invalid wildcard in accept header media type",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	ErrAcceptParameter: {
		Status: http.StatusBadRequest, Text: "Malformed parameter in accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	ErrAcceptQuality: {
		Status: http.StatusBadRequest, Text: "Invalid q parameter value in accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	ErrInternal: {
		Status: http.StatusInternalServerError,
		Text:   "Internal server error; the server's log has the details.",
		Source: "geocommuns: cgimap (src/process_request.cpp respond_error) sends the exception's own text, " +
			"which would show database internals to anyone; the status is cgimap's",
	},
}
