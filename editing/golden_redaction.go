package editing

import "net/http"

// The answers of redaction (issue 9): reading a redacted version, and
// the administrators' redact call. Redaction is openstreetmap-website's
// (cgimap has no redact call), so its texts and statuses are Rails'.
const (
	ErrVersionRedacted ErrorKind = iota + 8000
	ErrCannotRedactCurrent
	ErrAdminOnly
)

func init() {
	for k, g := range redactionGolden {
		Golden[k] = g
	}
}

// redactionGolden holds the rows of redaction; init adds them to Golden.
var redactionGolden = map[ErrorKind]GoldenText{
	ErrVersionRedacted: {
		Status: http.StatusForbidden, Text: "",
		Source: "openstreetmap-website app/controllers/api/old_elements_controller.rb show (head :forbidden when " +
			"@old_element.redacted? && !show_redactions?); test/controllers/api/old_nodes_controller_test.rb " +
			"test_show_redacted_unauthorised (assert_response :forbidden)",
	},
	ErrCannotRedactCurrent: {
		Status: http.StatusBadRequest, Text: "Cannot redact current version of element, only historical versions may be redacted.",
		Source: "openstreetmap-website lib/osm.rb APICannotRedactError (status :bad_request, to_s); " +
			"test/controllers/api/old_nodes_controller_test.rb test_redact_node_current_version (assert_response :bad_request)",
	},
	ErrAdminOnly: {
		Status: http.StatusForbidden, Text: "",
		Source: "openstreetmap-website app/controllers/api_controller.rb deny_access (head :forbidden for a signed-in " +
			"user the ability refuses); test/controllers/api/old_nodes_controller_test.rb test_redact_node_normal_user " +
			"(assert_response :forbidden). Here the administrator role stands for OSM's moderator",
	},
}
