package editing

import "net/http"

// GoldenText is one error reply: cgimap's status and text, and where the
// text was transcribed from (a test of cgimap's or openstreetmap-website's
// suite, or the source line such a test exercises), so that a reader can
// check it without running anything of ours. Text may hold fmt verbs,
// filled in the order the comment of the kind gives.
type GoldenText struct {
	Status int
	Text   string
	Source string
}

// The error kinds of editing. Each has one row in Golden.
const (
	ErrUnauthorized              ErrorKind = iota + 1 // no credentials on a write
	ErrNoWritePermission                              // credentials without write_api
	ErrChangesetNotFound                              // (changeset id) empty 404
	ErrChangesetNotOwner                              //
	ErrChangesetClosed                                // changeset id, closed_at
	ErrChangesetFull                                  // changeset id, now: 10,000 changes reached
	ErrChangesetMismatch                              // provided, allowed
	ErrVersionMismatch                                // provided, server, Type, id
	ErrNodesNotFound                                  // id list
	ErrWaysNotFound                                   // id list
	ErrRelationsNotFound                              // id list
	ErrAlreadyDeleted                                 // type, id
	ErrNodeUsedByWays                                 // node id, way ids
	ErrNodeUsedByRelations                            // node id, relation ids
	ErrWayUsedByRelations                             // way id, relation ids
	ErrRelationUsedByRelations                        // relation id, relation ids
	ErrWayNodesMissing                                // way id, node ids
	ErrRelationMembersMissing                         // relation id, member type (plural), ids
	ErrWayWithoutNodes                                // way id
	ErrTooManyWayNodes                                // count, way id, limit
	ErrTooManyRelationMembers                         // count, relation id, limit
	ErrPlaceholderUnknownRef                          // type, ref, parent type, parent id
	ErrPlaceholderUnknownElement                      // type, id
	ErrPlaceholderDuplicate                           //
	ErrPlaceholderNotNegative                         //
	ErrKeyTooLong                                     // "Node -1"
	ErrValueTooLong                                   // "Node -1"
	ErrRoleTooLong                                    //
	ErrKeyEmpty                                       // "Node -1"
	ErrDuplicateTag                                   // "Node -1", key
	ErrChangesetKeyTooLong
	ErrChangesetValueTooLong
	ErrLatitudeRange   //
	ErrLongitudeRange  //
	ErrBadRequest      // a parser's own text, passed through
	ErrPayloadTooLarge // limit in bytes
	ErrBadContentEncoding
	ErrURLIDMismatch // id in the URL, id in the body
	ErrQueryUserAndName
	ErrQueryInvalidUser
	ErrQueryTimeRange
	ErrQueryTime // the time as given
	ErrQueryNoChangesets
	ErrCommentNoText     // changeset discussion: POST …/comment without text
	ErrAlreadySubscribed // changeset id
	ErrNotSubscribed     // changeset id
)

// Golden is every error text editing answers. Over HTTP a 404 has an
// empty body whatever its text, as cgimap answers every not_found
// (src/process_request.cpp respond_404); Connect carries the text.
var Golden = map[ErrorKind]GoldenText{
	ErrUnauthorized: {
		Status: http.StatusUnauthorized, Text: "User is not authorized",
		Source: "cgimap src/process_request.cpp validate_user_db_update_permission (401 with WWW-Authenticate, respond_401); " +
			"status in test/test_apidb_backend_changeset_uploads.cpp test_osmchange_end_to_end \"User providing wrong password\"",
	},
	ErrNoWritePermission: {
		Status: http.StatusUnauthorized, Text: "You have not granted the modify map permission",
		Source: "cgimap src/process_request.cpp validate_user_db_update_permission",
	},
	ErrChangesetNotFound: {
		Status: http.StatusNotFound, Text: "",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_osmchange_message \"Test unknown changeset id\" " +
			"(http::not_found, empty message; answered as an empty 404)",
	},
	ErrChangesetNotOwner: {
		Status: http.StatusConflict, Text: "The user doesn't own that changeset",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_osmchange_end_to_end " +
			"\"Try to post a changeset, where the user doesn't own the changeset\"",
	},
	ErrChangesetClosed: {
		Status: http.StatusConflict, Text: "The changeset %d was closed at %s",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_osmchange_end_to_end \"Try to add a node to a " +
			"changeset that is already closed, X-Error-Format: XML error format response\"; the time format is " +
			"src/backend/apidb/changeset_upload/changeset_updater.cpp lock_cs (YYYY-MM-DD HH24:MI:SS \"UTC\")",
	},
	ErrChangesetFull: {
		Status: http.StatusConflict, Text: "The changeset %d was closed at %s",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_osmchange_end_to_end \"Try to add a node to a " +
			"changeset that already has 10000 elements (=max)\" (StartsWith \"The changeset 2 was closed at \") and " +
			"test_changeset_update \"Trying to add CHANGESET_MAX_ELEMENTS + 1 to empty changeset - should fail\"; " +
			"the time is the current time (changeset_updater.cpp update_changeset)",
	},
	ErrChangesetMismatch: {
		Status: http.StatusConflict, Text: "Changeset mismatch: Provided %d but only %d is allowed",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_osmchange_end_to_end " +
			"\"Try to post a changeset, where the URL points to a different URL than the payload\"",
	},
	ErrVersionMismatch: {
		Status: http.StatusConflict, Text: "Version mismatch: Provided %d, server had: %d of %s %d",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_nodes \"Change existing node with " +
			"incorrect version number\", test_single_ways and test_single_relations (\"… of Way 1\", \"… of Relation 1\")",
	},
	ErrNodesNotFound: {
		Status: http.StatusNotFound, Text: "The following node ids are not known on the database: %s",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_nodes \"Delete non-existing node\", \"Modify non-existing node\"",
	},
	ErrWaysNotFound: {
		Status: http.StatusNotFound, Text: "The following way ids are unknown: %s",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_ways \"Delete non-existing way\", \"Modify non-existing way\"",
	},
	ErrRelationsNotFound: {
		Status: http.StatusNotFound, Text: "The following relation ids are unknown: %s",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_relations \"Delete non-existing relation\", " +
			"\"Modify non-existing relation\"",
	},
	ErrAlreadyDeleted: {
		Status: http.StatusGone, Text: "The %s with the id %d has already been deleted",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_ways \"Try to delete already deleted node " +
			"(if-unused not set)\" (\"The way with the id 1 …\") and test_single_relations \"Try to delete already deleted " +
			"relation (if-unused not set)\"; node: src/backend/apidb/changeset_upload/node_updater.cpp determine_already_deleted_nodes",
	},
	ErrNodeUsedByWays: {
		Status: http.StatusPreconditionFailed, Text: "Precondition failed: Node %d is still used by ways %s.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_ways \"Try to delete node which still belongs " +
			"to way, if-unused not set\"",
	},
	ErrNodeUsedByRelations: {
		Status: http.StatusPreconditionFailed, Text: "Precondition failed: Node %d is still used by relations %s.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_relations \"Try to delete node which still " +
			"belongs to relation, if-unused not set\"",
	},
	ErrWayUsedByRelations: {
		Status: http.StatusPreconditionFailed, Text: "Precondition failed: Way %d is still used by relations %s.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_relations \"Try to delete way which still " +
			"belongs to relation, if-unused not set\"",
	},
	ErrRelationUsedByRelations: {
		Status: http.StatusPreconditionFailed, Text: "Precondition failed: The relation %d is used in relations %s.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_relations \"Try to delete relation which " +
			"still belongs to relation, if-unused not set\"",
	},
	ErrWayNodesMissing: {
		Status: http.StatusPreconditionFailed,
		Text:   "Precondition failed: Way %d requires the nodes with id in %s, which either do not exist, or are not visible.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_ways \"Change existing way with unknown node id\"",
	},
	ErrRelationMembersMissing: {
		Status: http.StatusPreconditionFailed,
		Text:   "Precondition failed: Relation %d requires the %s with id in %s, which either do not exist, or are not visible.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_relations \"Change existing relation with " +
			"unknown node id\", \"… unknown way id\", \"… unknown relation id\"",
	},
	ErrWayWithoutNodes: {
		Status: http.StatusPreconditionFailed, Text: "Precondition failed: Way %d must have at least one node",
		Source: "cgimap test/test_parse_osmchange_xml_input.cpp \"Create way, missing node ref\"",
	},
	ErrTooManyWayNodes: {
		Status: http.StatusBadRequest, Text: "You tried to add %d nodes to way %d, however only %d are allowed",
		Source: "cgimap test/test_parse_osmchange_xml_input.cpp \"Create way, node refs >= max way nodes\"",
	},
	ErrTooManyRelationMembers: {
		Status: http.StatusBadRequest, Text: "You tried to add %d members to relation %d, however only %d are allowed",
		Source: "cgimap include/cgimap/api06/changeset_upload/relation.hpp Relation::is_valid; status in " +
			"test/test_parse_osmchange_xml_input.cpp \"Create relation, members >= max members\"",
	},
	ErrPlaceholderUnknownRef: {
		Status: http.StatusBadRequest, Text: "Placeholder %s not found for reference %d in %s %d",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_ways \"Create way with unknown placeholder " +
			"ids\" (\"Placeholder node not found for reference -1 in way -1\"), test_single_relations \"Create relation with " +
			"unknown way placeholder id\", test_osmchange_message \"Forward relation member declarations\"",
	},
	ErrPlaceholderUnknownElement: {
		Status: http.StatusBadRequest, Text: "Placeholder id not found for %s reference %d",
		Source: "cgimap src/backend/apidb/changeset_upload/node_updater.cpp replace_old_ids_in_nodes, way_updater.cpp " +
			"replace_old_ids_in_ways, relation_updater.cpp replace_old_ids_in_relations",
	},
	ErrPlaceholderDuplicate: {
		Status: http.StatusBadRequest, Text: "Placeholder IDs must be unique for created elements.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_nodes \"Create two nodes with the same old_id\"",
	},
	ErrPlaceholderNotNegative: {
		Status: http.StatusBadRequest, Text: "Placeholder IDs must be negative for created elements.",
		Source: "cgimap test/test_apidb_backend_changeset_uploads.cpp test_single_nodes \"Create node with positive old id\"",
	},
	ErrKeyTooLong: {
		Status: http.StatusBadRequest, Text: "Key has more than 255 unicode characters in %s",
		Source: "cgimap test/test_parse_osmchange_xml_input.cpp \"Create node, tag key with > 255 unicode characters\" " +
			"(the XML parser appends \" at line L, column C\")",
	},
	ErrValueTooLong: {
		Status: http.StatusBadRequest, Text: "Value has more than 255 unicode characters in %s",
		Source: "cgimap test/test_parse_osmchange_xml_input.cpp \"Create node, tag value with > 255 unicode characters\"",
	},
	ErrRoleTooLong: {
		Status: http.StatusBadRequest, Text: "Relation Role has more than 255 unicode characters",
		Source: "cgimap test/test_parse_osmchange_xml_input.cpp \"Create relation, role with > 255 unicode characters\"",
	},
	ErrKeyEmpty: {
		Status: http.StatusBadRequest, Text: "Key may not be empty in %s",
		Source: "cgimap include/cgimap/api06/changeset_upload/osmobject.hpp OSMObject::add_tag; status in " +
			"test/test_parse_osmchange_xml_input.cpp \"Create node, empty tag key\"",
	},
	ErrDuplicateTag: {
		Status: http.StatusBadRequest, Text: "%s has duplicate tags with key %s",
		Source: "cgimap test/test_parse_osmchange_xml_input.cpp \"Create node, duplicate key dup1\"",
	},
	ErrChangesetKeyTooLong: {
		Status: http.StatusBadRequest, Text: "Key has more than 255 unicode characters",
		Source: "cgimap include/cgimap/api06/changeset_upload/changeset_input_format.hpp ChangesetXMLParser::add_tag",
	},
	ErrChangesetValueTooLong: {
		Status: http.StatusBadRequest, Text: "Value has more than 255 unicode characters",
		Source: "cgimap include/cgimap/api06/changeset_upload/changeset_input_format.hpp ChangesetXMLParser::add_tag",
	},
	ErrLatitudeRange: {
		Status: http.StatusBadRequest, Text: "Latitude outside of valid range",
		Source: "cgimap include/cgimap/api06/changeset_upload/node.hpp Node::set_lat; status in " +
			"test/test_parse_osmchange_xml_input.cpp \"Create node, lat outside range\"",
	},
	ErrLongitudeRange: {
		Status: http.StatusBadRequest, Text: "Longitude outside of valid range",
		Source: "cgimap include/cgimap/api06/changeset_upload/node.hpp Node::set_lon; status in " +
			"test/test_parse_osmchange_xml_input.cpp \"Create node, lon outside range\"",
	},
	ErrBadRequest: {
		Status: http.StatusBadRequest, Text: "%s",
		Source: "the request body parsers' own cgimap texts (osmdata/osmchange), passed through unchanged",
	},
	ErrPayloadTooLarge: {
		Status: http.StatusRequestEntityTooLarge, Text: "Payload exceeds limit of %d bytes",
		Source: "cgimap src/request.cpp request::get_payload (http::payload_too_large); the same text in " +
			"test/test_request.cpp test_request::get_payload",
	},
	ErrBadContentEncoding: {
		Status: http.StatusBadRequest, Text: "Payload cannot be decompressed according to Content-Encoding",
		Source: "cgimap src/request.cpp request::get_payload",
	},
	ErrURLIDMismatch: {
		Status: http.StatusBadRequest, Text: "The id in the url (%d) is not the same as provided in the xml (%d)",
		Source: "openstreetmap-website app/controllers/api/nodes_controller.rb update and delete (ways_controller.rb, " +
			"relations_controller.rb alike)",
	},
	ErrQueryUserAndName: {
		Status: http.StatusBadRequest, Text: "provide either the user ID or display name, but not both",
		Source: "openstreetmap-website app/controllers/api/changesets_controller.rb conditions_user",
	},
	ErrQueryInvalidUser: {
		Status: http.StatusBadRequest, Text: "invalid user ID",
		Source: "openstreetmap-website app/controllers/api/changesets_controller.rb conditions_user",
	},
	ErrQueryTimeRange: {
		Status: http.StatusBadRequest, Text: "bad time range",
		Source: "openstreetmap-website app/controllers/api/changesets_controller.rb conditions_time",
	},
	ErrQueryTime: {
		Status: http.StatusBadRequest, Text: "no time information in \"%s\"",
		Source: "openstreetmap-website app/controllers/api/changesets_controller.rb conditions_time, which answers " +
			"Ruby's Time.parse ArgumentError message",
	},
	ErrQueryNoChangesets: {
		Status: http.StatusBadRequest, Text: "No changesets were given to search for",
		Source: "openstreetmap-website app/controllers/api/changesets_controller.rb conditions_ids",
	},
	// The changeset discussion calls are openstreetmap-website's (cgimap
	// has none), so their texts and statuses are its own.
	ErrCommentNoText: {
		Status: http.StatusBadRequest, Text: "No text was given",
		Source: "openstreetmap-website app/controllers/api/changeset_comments_controller.rb create (OSM::APIBadUserInput); " +
			"status in test/controllers/api/changeset_comments_controller_test.rb test_create_comment_fail \"no text\", \"empty text\"",
	},
	ErrAlreadySubscribed: {
		Status: http.StatusConflict, Text: "You are already subscribed to changeset %d.",
		Source: "openstreetmap-website lib/osm.rb APIChangesetAlreadySubscribedError; status in " +
			"test/controllers/api/changeset_subscriptions_controller_test.rb test_create_fail (:conflict); the text as " +
			"python-osmapi's tests/changeset_test.py test_changeset_subscribe_when_already_subscribed reads it from openstreetmap.org",
	},
	ErrNotSubscribed: {
		Status: http.StatusNotFound, Text: "You are not subscribed to changeset %d.",
		Source: "openstreetmap-website lib/osm.rb APIChangesetNotSubscribedError; status in " +
			"test/controllers/api/changeset_subscriptions_controller_test.rb test_destroy_fail (:not_found, not 409); the text as " +
			"python-osmapi's tests/changeset_test.py test_changeset_unsubscribe_when_not_subscribed reads it (a 404 with its text)",
	},
}
