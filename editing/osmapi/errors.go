package osmapi

import (
	"fmt"
	"net/http"
	"strings"
)

// reply is how an error is answered. cgimap answers three kinds of errors
// three ways (src/process_request.cpp): a 404 as an empty HTML document, a
// 405 as an empty document with an Allow header, and every other error as
// text/plain carrying the message, repeated in an Error header.
type reply int

const (
	replyText     reply = iota // text/plain body and Error header
	replyEmpty404              // text/html; charset=utf-8, Content-Length 0
	replyEmpty405              // text/html, Content-Length 0, Allow header
)

// golden is one error reply, transcribed from the reference
// implementation's tests or sources; Source names where, so that a reader
// can check the text without running anything of ours.
type golden struct {
	Status int
	Reply  reply
	// Text is the body; it may hold fmt verbs filled by apiError.args.
	Text   string
	Source string
}

// errorKind names one row of the golden table.
type errorKind int

const (
	errNotFound errorKind = iota
	errGone
	errMethodNotAllowed
	errBBoxFormat
	errBBoxRange
	errBBoxTooLarge
	errTooManyNodes
	errNodesParam
	errWaysParam
	errRelationsParam
	errNotAcceptable
	errEncodingNotAcceptable
	errAcceptEmpty
	errAcceptMalformed
	errAcceptMediaType
	errAcceptWildcard
	errAcceptParameter
	errAcceptQuality
	errInternal
)

// goldenErrors is every error text the API answers. cgimap is the
// reference (design.md); openstreetmap-website is cited where cgimap's
// test suite checks only the status.
var goldenErrors = map[errorKind]golden{
	errNotFound: {
		Status: http.StatusNotFound, Reply: replyEmpty404, Text: "",
		Source: "cgimap test/message.testcore/node_404.case (empty text/html body, Content-Length 0); " +
			"status for unknown ids, versions and routes: test/node.testcore/node_4.case, node_five.case, " +
			"node_version_missing.case, node_history_404.case, nodes_missing.case, nodes_non_numeric.case",
	},
	errGone: {
		Status: http.StatusGone, Reply: replyText, Text: "",
		Source: "cgimap test/node.testcore/node_3.case and test/relation_full.testcore/relation_2.case " +
			"(410 Gone); the body is http::gone's empty default message (include/cgimap/http.hpp)",
	},
	errMethodNotAllowed: {
		Status: http.StatusMethodNotAllowed, Reply: replyEmpty405, Text: "",
		Source: "cgimap test/map.testcore/method_not_allowed.case (Allow: GET, HEAD, OPTIONS; " +
			"Content-Type: text/html; Content-Length: 0); test/node.testcore/node_invalid_method_1.case",
	},
	errBBoxFormat: {
		Status: http.StatusBadRequest, Reply: replyText,
		Text:   "The parameter bbox is required, and must be of the form min_lon,min_lat,max_lon,max_lat.",
		Source: "cgimap test/map.testcore/bad_bbox_009.case (body and Error header); bad_bbox_001.case to bad_bbox_003.case",
	},
	errBBoxRange: {
		Status: http.StatusBadRequest, Reply: replyText,
		Text:   "The latitudes must be between -90 and 90, longitudes between -180 and 180 and the minima must be less than the maxima.",
		Source: "cgimap test/map.testcore/bad_bbox_004.case to bad_bbox_008.case (Error header)",
	},
	errBBoxTooLarge: {
		Status: http.StatusBadRequest, Reply: replyText,
		Text: "The maximum bbox size is %f, and your request was too large. Either request a smaller area, or use planet.osm",
		Source: "cgimap src/api06/map_handler.cpp map_handler::validate_request (fmt \"{:f}\": 0.250000); " +
			"openstreetmap-website test/controllers/api/maps_controller_test.rb test_bbox_too_big has the same " +
			"sentence with Rails' number format (0.25)",
	},
	errTooManyNodes: {
		Status: http.StatusBadRequest, Reply: replyText,
		Text:   "You requested too many nodes (limit is %d). Either request a smaller area, or use planet.osm",
		Source: "cgimap test/map.testcore/too_many_nodes.case (400); text from src/api06/map_handler.cpp map_responder",
	},
	errNodesParam: {
		Status: http.StatusBadRequest, Reply: replyText,
		Text:   "The parameter nodes is required, and must be of the form nodes=ID[vVER][,ID[vVER][,ID[vVER]...]].",
		Source: "cgimap test/node.testcore/nodes_empty.case (400); text from src/api06/nodes_handler.cpp validate_request",
	},
	errWaysParam: {
		Status: http.StatusBadRequest, Reply: replyText,
		Text:   "The parameter ways is required, and must be of the form ways=ID[vVER][,ID[vVER][,ID[vVER]...]].",
		Source: "cgimap test/way.testcore/ways_empty.case (400); text from src/api06/ways_handler.cpp validate_request",
	},
	errRelationsParam: {
		Status: http.StatusBadRequest, Reply: replyText,
		Text:   "The parameter relations is required, and must be of the form relations=id[,id[,id...]].",
		Source: "cgimap test/relation.testcore/relations_empty.case (400); text from src/api06/relations_handler.cpp validate_request",
	},
	errNotAcceptable: {
		Status: http.StatusNotAcceptable, Reply: replyText,
		Text: "Acceptable formats for %s are: %s",
		Source: "cgimap test/node.testcore/node_accept_unknown.case and node_conflicting_header.case (406); " +
			"text from src/choose_formatter.cpp choose_best_mime_type",
	},
	errEncodingNotAcceptable: {
		Status: http.StatusNotAcceptable, Reply: replyText,
		Text:   "No acceptable content encoding found. Only identity and gzip are supported.",
		Source: "cgimap src/http.cpp choose_encoding",
	},
	errAcceptEmpty: {
		Status: http.StatusBadRequest, Reply: replyText, Text: "Invalid empty accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	errAcceptMalformed: {
		Status: http.StatusBadRequest, Reply: replyText, Text: "Malformed accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	errAcceptMediaType: {
		Status: http.StatusBadRequest, Reply: replyText, Text: "Invalid accept header media type",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	errAcceptWildcard: {
		Status: http.StatusBadRequest, Reply: replyText, Text: "Invalid wildcard in accept header media type",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	errAcceptParameter: {
		Status: http.StatusBadRequest, Reply: replyText, Text: "Malformed parameter in accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	errAcceptQuality: {
		Status: http.StatusBadRequest, Reply: replyText, Text: "Invalid q parameter value in accept header",
		Source: "cgimap src/choose_formatter.cpp AcceptHeader::parse",
	},
	errInternal: {
		Status: http.StatusInternalServerError, Reply: replyText,
		Text: "Internal server error; the server's log has the details.",
		Source: "geocommuns: cgimap (src/process_request.cpp respond_error) sends the exception's own text, " +
			"which would show database internals to anyone; the status is cgimap's",
	},
}

// apiError is an error answered to the client with a golden text.
type apiError struct {
	kind errorKind
	args []any
	// cause is logged, never sent.
	cause error
}

func newError(kind errorKind, args ...any) *apiError { return &apiError{kind: kind, args: args} }

func internalError(cause error) *apiError { return &apiError{kind: errInternal, cause: cause} }

func (e *apiError) golden() golden { return goldenErrors[e.kind] }

func (e *apiError) message() string {
	g := e.golden()
	if len(e.args) == 0 {
		return g.Text
	}
	return fmt.Sprintf(g.Text, e.args...)
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s", e.golden().Status, e.message())
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *apiError) Unwrap() error { return e.cause }

// allowedMethods is what every read route accepts, in cgimap's order
// (src/http.cpp list_methods).
const allowedMethods = "GET, HEAD, OPTIONS"

// writeError answers err as cgimap does. A client sending
// "X-Error-Format: xml" gets the message in an <osmError> document with
// status 200, except for 404 and 405 (cgimap
// test/message.testcore/map_400_xml.case and node_404_xml.case).
func writeError(w http.ResponseWriter, r *http.Request, err *apiError) {
	g := err.golden()
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	switch g.Reply {
	case replyEmpty404:
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", "0")
		w.WriteHeader(g.Status)
		return
	case replyEmpty405:
		h.Set("Allow", allowedMethods)
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", "0")
		w.WriteHeader(g.Status)
		return
	}
	msg := err.message()
	if strings.EqualFold(r.Header.Get("X-Error-Format"), "xml") {
		h.Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<osmError>\r\n<status>%d %s</status>\r\n<message>%s</message>\r\n</osmError>\r\n",
			g.Status, http.StatusText(g.Status), xmlEscape(msg))
		return
	}
	header := msg
	if len(header) > 250 {
		header = header[:250]
	}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", fmt.Sprint(len(msg)))
	h.Set("Error", strings.ReplaceAll(header, "\n", " "))
	w.WriteHeader(g.Status)
	_, _ = w.Write([]byte(msg))
}
