package osmchange

import (
	"fmt"
	"net/http"
)

// Kind names one error text of the request-body parsers. The names are
// stable: the editing layer's golden table includes these rows by name.
type Kind string

// Golden is one error reply: status and text as cgimap answers it, and
// where the text was transcribed from, so that a reader can check it
// without running anything of ours. Text may hold fmt verbs, filled in
// the order the kind's comment gives.
type Golden struct {
	Status int
	Text   string
	// Positioned is whether cgimap appends " at line L, column C": it
	// does for every payload_error thrown inside its SAX callbacks, but
	// not for the http::bad_request and precondition_failed of
	// Way::is_valid and Relation::is_valid.
	Positioned bool
	Source     string
}

const (
	cgimapTest      = "cgimap test/test_parse_osmchange_xml_input.cpp "
	cgimapParser    = "cgimap include/cgimap/api06/changeset_upload/osmchange_xml_input_format.hpp "
	cgimapObject    = "cgimap include/cgimap/api06/changeset_upload/osmobject.hpp "
	cgimapNode      = "cgimap include/cgimap/api06/changeset_upload/node.hpp "
	cgimapWay       = "cgimap include/cgimap/api06/changeset_upload/way.hpp "
	cgimapRelation  = "cgimap include/cgimap/api06/changeset_upload/relation.hpp "
	cgimapCsTest    = "cgimap test/test_parse_changeset_input.cpp "
	cgimapCsParser  = "cgimap include/cgimap/api06/changeset_upload/changeset_input_format.hpp "
	cgimapNodeInput = "cgimap include/cgimap/api06/changeset_upload/node_input_format.hpp "
)

// The kinds. Arguments, where the text takes some, are listed after each.
const (
	KindBadXML              Kind = "bad_xml"               // libxml2-style description
	KindTooManyElements     Kind = "too_many_elements"     // limit
	KindTokenTooLong        Kind = "token_too_long"        // limit in bytes
	KindNestedTooDeep       Kind = "nested_too_deep"       //
	KindUnknownTopLevel     Kind = "unknown_top_level"     // element name
	KindUnknownAction       Kind = "unknown_action"        // element name
	KindUnknownElement      Kind = "unknown_element"       // element name
	KindIDMissing           Kind = "id_missing"            //
	KindIDNotNumeric        Kind = "id_not_numeric"        //
	KindIDTooLarge          Kind = "id_too_large"          //
	KindIDZero              Kind = "id_zero"               //
	KindChangesetMissing    Kind = "changeset_missing"     // "Node -1"
	KindChangesetNotNumeric Kind = "changeset_not_numeric" //
	KindChangesetTooLarge   Kind = "changeset_too_large"   //
	KindChangesetNotPos     Kind = "changeset_not_positive"
	KindVersionMissing      Kind = "version_missing"     // "Node 1"
	KindVersionInvalid      Kind = "version_invalid"     // version, "Node 1"
	KindVersionNotNumeric   Kind = "version_not_numeric" //
	KindVersionTooLarge     Kind = "version_too_large"   //
	KindVersionNegative     Kind = "version_negative"    //
	KindLatNotNumeric       Kind = "lat_not_numeric"
	KindLatTooLarge         Kind = "lat_too_large"
	KindLatRange            Kind = "lat_range"
	KindLatNotFinite        Kind = "lat_not_finite"
	KindLonNotNumeric       Kind = "lon_not_numeric"
	KindLonTooLarge         Kind = "lon_too_large"
	KindLonRange            Kind = "lon_range"
	KindLonNotFinite        Kind = "lon_not_finite"
	KindNodeIncomplete      Kind = "node_incomplete" // "Node -1"
	KindTagKMissing         Kind = "tag_k_missing"   // "Node -1"
	KindTagVMissing         Kind = "tag_v_missing"   // "Node -1"
	KindKeyEmpty            Kind = "key_empty"       // "Node -1"
	KindKeyTooLong          Kind = "key_too_long"    // "Node -1"
	KindValueTooLong        Kind = "value_too_long"  // "Node -1"
	KindDuplicateTag        Kind = "duplicate_tag"   // "Node -1", key
	KindTooManyTags         Kind = "too_many_tags"   // limit
	KindPlaceholderNotNeg   Kind = "placeholder_not_negative"
	KindNdRefMissing        Kind = "nd_ref_missing"         // "Way -1"
	KindWayNodeNotNumeric   Kind = "way_node_not_numeric"   //
	KindWayNodeTooLarge     Kind = "way_node_too_large"     //
	KindWayNodeZero         Kind = "way_node_zero"          //
	KindWayWithoutNodes     Kind = "way_without_nodes"      // way id
	KindTooManyWayNodes     Kind = "too_many_way_nodes"     // count, way id, limit
	KindMemberTypeInvalid   Kind = "member_type_invalid"    // type as given
	KindMemberRefNotNumeric Kind = "member_ref_not_numeric" //
	KindMemberRefTooLarge   Kind = "member_ref_too_large"   //
	KindMemberRefZero       Kind = "member_ref_zero"        //
	KindRoleTooLong         Kind = "role_too_long"          //
	KindMemberTypeMissing   Kind = "member_type_missing"    //
	KindMemberRefMissing    Kind = "member_ref_missing"     //
	KindTooManyMembers      Kind = "too_many_members"       // count, relation id, limit

	// Bodies of PUT /changeset/create and PUT /changeset/ID.
	KindOsmRootExpected    Kind = "osm_root_expected"    //
	KindChangesetExpected  Kind = "changeset_expected"   //
	KindTagExpected        Kind = "tag_expected"         //
	KindNoChangeset        Kind = "no_changeset"         //
	KindChangesetKeyEmpty  Kind = "changeset_key_empty"  //
	KindChangesetKeyLong   Kind = "changeset_key_long"   //
	KindChangesetValueLong Kind = "changeset_value_long" //
	KindChangesetKMissing  Kind = "changeset_k_missing"  //
	KindChangesetVMissing  Kind = "changeset_v_missing"  //
	KindElementExpected    Kind = "element_expected"     // "node"
	KindNoElement          Kind = "no_element"           // "node", "node"
	KindBodyIDMissing      Kind = "body_id_missing"      //
)

// GoldenErrors is every error text the parsers of this package answer.
var GoldenErrors = map[Kind]Golden{
	KindBadXML: {
		Status: http.StatusBadRequest, Text: "%s", Positioned: true,
		Source: cgimapTest + "\"Invalid XML\", \"Invalid XML: osmchange end only\", \"Invalid data\" (status 400 only): " +
			"cgimap passes libxml2's own message on; ours uses libxml2's wording for the same faults " +
			"(\"Premature end of data in tag osmChange line 1\", \"Opening and ending tag mismatch: …\", " +
			"\"Attribute lat redefined\" as in \"Create node, redefined lat attribute\")",
	},
	KindTooManyElements: {
		Status: http.StatusRequestEntityTooLarge, Text: "Payload exceeds limit of %d XML elements",
		Source: "geocommuns: the element counterpart of cgimap's \"Payload exceeds limit of %d bytes\" " +
			"(src/request.cpp request::get_payload, 413)",
	},
	KindTokenTooLong: {
		Status: http.StatusRequestEntityTooLarge, Text: "Payload contains an XML tag longer than %d bytes",
		Source: "geocommuns: a single start tag is read whole; cgimap bounds it only by the payload limit",
	},
	KindNestedTooDeep: {
		Status: http.StatusBadRequest, Text: "xml file nested too deep", Positioned: true,
		Source: cgimapTest + "\"Create node, extra xml nested inside tag\" (status); text from " + cgimapParser + "on_start_element",
	},
	KindUnknownTopLevel: {
		Status: http.StatusBadRequest, Text: "Unknown top-level element %s, expecting osmChange", Positioned: true,
		Source: cgimapTest + "\"Misspelled osmchange xml\" (status); text from " + cgimapParser + "on_start_element",
	},
	KindUnknownAction: {
		Status: http.StatusBadRequest, Text: "Unknown action %s, choices are create, modify, delete", Positioned: true,
		Source: cgimapTest + "\"osmchange: Unknown action\" (\"Unknown action dummy, choices are create, modify, delete at line 1, column 18\")",
	},
	KindUnknownElement: {
		Status: http.StatusBadRequest, Text: "Unknown element %s, expecting node, way or relation", Positioned: true,
		Source: cgimapTest + "\"osmchange: create invalid object\" (\"Unknown element bla, expecting node, way or relation at line 1, column 24\")",
	},
	KindIDMissing: {
		Status: http.StatusBadRequest, Text: "Mandatory field id missing in object", Positioned: true,
		Source: cgimapTest + "\"Delete way, no id\" (\"… at line 1, column 52\") and \"Delete relation, no id\"",
	},
	KindIDNotNumeric: {
		Status: http.StatusBadRequest, Text: "Id is not numeric", Positioned: true,
		Source: cgimapTest + "\"Create node, invalid id\" (status); text from " + cgimapObject + "OSMObject::set_id",
	},
	KindIDTooLarge: {
		Status: http.StatusBadRequest, Text: "Id number is too large", Positioned: true,
		Source: cgimapTest + "\"Create node, id too large\" (status); text from " + cgimapObject + "OSMObject::set_id",
	},
	KindIDZero: {
		Status: http.StatusBadRequest, Text: "Id must be different from 0", Positioned: true,
		Source: cgimapTest + "\"Create node, id zero\" (status); text from " + cgimapObject + "OSMObject::set_id",
	},
	KindChangesetMissing: {
		Status: http.StatusBadRequest, Text: "Changeset id is missing for %s", Positioned: true,
		Source: cgimapTest + "\"Create node, changeset missing\" (\"Changeset id is missing for Node -1 at line 1, column 60\"), " +
			"\"Create way, missing changeset\", \"Delete way, no changeset\"",
	},
	KindChangesetNotNumeric: {
		Status: http.StatusBadRequest, Text: "Changeset is not numeric", Positioned: true,
		Source: cgimapTest + "\"Create node, invalid changeset number\" (status); text from " + cgimapObject + "OSMObject::set_changeset",
	},
	KindChangesetTooLarge: {
		Status: http.StatusBadRequest, Text: "Changeset number is too large", Positioned: true,
		Source: cgimapTest + "\"Create node, changeset number too large\" (status); text from " + cgimapObject + "OSMObject::set_changeset",
	},
	KindChangesetNotPos: {
		Status: http.StatusBadRequest, Text: "Changeset must be a positive number", Positioned: true,
		Source: cgimapTest + "\"Create node, changeset number zero\", \"… negative\" (status); text from " + cgimapObject + "OSMObject::set_changeset",
	},
	KindVersionMissing: {
		Status: http.StatusBadRequest, Text: "Version is required when updating %s", Positioned: true,
		Source: cgimapTest + "\"Delete relation, no version\" (\"Version is required when updating Relation -1 at line 1, column 53\")",
	},
	KindVersionInvalid: {
		Status: http.StatusBadRequest, Text: "Invalid version number %d in %s", Positioned: true,
		Source: cgimapTest + "\"Modify node, invalid version\", \"Delete node, invalid version\" (status); text from " + cgimapParser + "init_object",
	},
	KindVersionNotNumeric: {
		Status: http.StatusBadRequest, Text: "Version is not numeric", Positioned: true,
		Source: cgimapTest + "\"Modify node, invalid version number\" (status); text from " + cgimapObject + "OSMObject::set_version",
	},
	KindVersionTooLarge: {
		Status: http.StatusBadRequest, Text: "Version value is too large", Positioned: true,
		Source: cgimapTest + "\"Modify node, version too large\" (status); text from " + cgimapObject + "OSMObject::set_version",
	},
	KindVersionNegative: {
		Status: http.StatusBadRequest, Text: "Version may not be negative", Positioned: true,
		Source: cgimapTest + "\"Modify node, invalid, negative version\" (\"Version may not be negative at line 1, column 63\")",
	},
	KindLatNotNumeric: {
		Status: http.StatusBadRequest, Text: "Latitude is not numeric", Positioned: true,
		Source: cgimapTest + "\"Create node, latitude not numeric\" (status); text from " + cgimapNode + "Node::set_lat",
	},
	KindLatTooLarge: {
		Status: http.StatusBadRequest, Text: "Latitude value is too large", Positioned: true,
		Source: cgimapNode + "Node::set_lat (std::from_chars result_out_of_range, e.g. 1e400)",
	},
	KindLatRange: {
		Status: http.StatusBadRequest, Text: "Latitude outside of valid range", Positioned: true,
		Source: cgimapTest + "\"Create node, lat outside range\", \"Create node, lat float overflow\" (status); text from " + cgimapNode + "Node::set_lat",
	},
	KindLatNotFinite: {
		Status: http.StatusBadRequest, Text: "Latitude not a valid finite number", Positioned: true,
		Source: cgimapTest + "\"Create node, lat non-finite float\" (status, nan); text from " + cgimapNode + "Node::set_lat",
	},
	KindLonNotNumeric: {
		Status: http.StatusBadRequest, Text: "Longitude is not numeric", Positioned: true,
		Source: cgimapTest + "\"Create node, longitude not numeric\" (status); text from " + cgimapNode + "Node::set_lon",
	},
	KindLonTooLarge: {
		Status: http.StatusBadRequest, Text: "Longitude value is too large", Positioned: true,
		Source: cgimapNode + "Node::set_lon (std::from_chars result_out_of_range)",
	},
	KindLonRange: {
		Status: http.StatusBadRequest, Text: "Longitude outside of valid range", Positioned: true,
		Source: cgimapTest + "\"Create node, lon outside range\", \"Create node, lon float overflow\" (status); text from " + cgimapNode + "Node::set_lon",
	},
	KindLonNotFinite: {
		Status: http.StatusBadRequest, Text: "Longitude not a valid finite number", Positioned: true,
		Source: cgimapTest + "\"Create node, lon non-finite float\" (status, nan); text from " + cgimapNode + "Node::set_lon",
	},
	KindNodeIncomplete: {
		Status: http.StatusBadRequest, Text: "%s does not include all mandatory fields", Positioned: true,
		Source: cgimapTest + "\"Create node, lat missing\", \"Create node, lon missing\" (status); text from " + cgimapParser + "on_end_element",
	},
	KindTagKMissing: {
		Status: http.StatusBadRequest, Text: "Mandatory field k missing in tag element for %s", Positioned: true,
		Source: cgimapTest + "\"Create node, tag without key\" (status); text from " + cgimapParser + "add_tag",
	},
	KindTagVMissing: {
		Status: http.StatusBadRequest, Text: "Mandatory field v missing in tag element for %s", Positioned: true,
		Source: cgimapTest + "\"Create node, tag without value\" (status); text from " + cgimapParser + "add_tag",
	},
	KindKeyEmpty: {
		Status: http.StatusBadRequest, Text: "Key may not be empty in %s", Positioned: true,
		Source: cgimapTest + "\"Create node, empty tag key\" (status); text from " + cgimapObject + "OSMObject::add_tag",
	},
	KindKeyTooLong: {
		Status: http.StatusBadRequest, Text: "Key has more than 255 unicode characters in %s", Positioned: true,
		Source: cgimapTest + "\"Create node, tag key with > 255 unicode characters\" (\"… in Node -1 at line 2, column 303\")",
	},
	KindValueTooLong: {
		Status: http.StatusBadRequest, Text: "Value has more than 255 unicode characters in %s", Positioned: true,
		Source: cgimapTest + "\"Create node, tag value with > 255 unicode characters\" (\"… in Node -1 at line 2, column 301\")",
	},
	KindDuplicateTag: {
		Status: http.StatusBadRequest, Text: "%s has duplicate tags with key %s", Positioned: true,
		Source: cgimapTest + "\"Create node, duplicate key dup1\" (\"Node -1 has duplicate tags with key dup1 at line 4, column 48\")",
	},
	KindTooManyTags: {
		Status: http.StatusBadRequest, Text: "OSM element exceeds limit of %d tags", Positioned: true,
		Source: cgimapTest + "\"Create node, tags >= max tags\" (status); text from " + cgimapObject + "OSMObject::is_valid",
	},
	KindPlaceholderNotNeg: {
		Status: http.StatusBadRequest, Text: "Placeholder IDs must be negative for created elements.", Positioned: true,
		Source: cgimapTest + "\"Create way, positive placeholder id\", \"Create relation, positive placeholder id\" (status); " +
			"text from " + cgimapObject + "OSMObject::is_valid",
	},
	KindNdRefMissing: {
		Status: http.StatusBadRequest, Text: "Missing mandatory ref field on way node %s", Positioned: true,
		Source: cgimapTest + "\"Create way, node ref missing\" (status); text from " + cgimapParser + "on_start_element",
	},
	KindWayNodeNotNumeric: {
		Status: http.StatusBadRequest, Text: "Way node is not numeric", Positioned: true,
		Source: cgimapTest + "\"Create way, node ref not numeric\" (status); text from " + cgimapWay + "Way::add_way_node",
	},
	KindWayNodeTooLarge: {
		Status: http.StatusBadRequest, Text: "Way node value is too large", Positioned: true,
		Source: cgimapTest + "\"Create way, node ref too large\" (status); text from " + cgimapWay + "Way::add_way_node",
	},
	KindWayNodeZero: {
		Status: http.StatusBadRequest, Text: "Way node value may not be 0", Positioned: true,
		Source: cgimapTest + "\"Create way, invalid zero node ref\" (status); text from " + cgimapWay + "Way::add_way_node",
	},
	KindWayWithoutNodes: {
		Status: http.StatusPreconditionFailed, Text: "Precondition failed: Way %d must have at least one node",
		Source: cgimapTest + "\"Create way, missing node ref\" (\"Precondition failed: Way -1 must have at least one node\", 412)",
	},
	KindTooManyWayNodes: {
		Status: http.StatusBadRequest, Text: "You tried to add %d nodes to way %d, however only %d are allowed",
		Source: cgimapTest + "\"Create way, node refs >= max way nodes\" (\"You tried to add 2001 nodes to way -1, however only 2000 are allowed\")",
	},
	KindMemberTypeInvalid: {
		Status: http.StatusBadRequest, Text: "Invalid type %s in member relation", Positioned: true,
		Source: cgimapTest + "\"Create relation, invalid member type\" (status); text from " + cgimapRelation + "RelationMember::set_type",
	},
	KindMemberRefNotNumeric: {
		Status: http.StatusBadRequest, Text: "Relation member 'ref' attribute is not numeric", Positioned: true,
		Source: cgimapTest + "\"Create relation, invalid member ref\" (status); text from " + cgimapRelation + "RelationMember::set_ref",
	},
	KindMemberRefTooLarge: {
		Status: http.StatusBadRequest, Text: "Relation member 'ref' attribute value is too large", Positioned: true,
		Source: cgimapTest + "\"Create relation, member ref too large\" (status); text from " + cgimapRelation + "RelationMember::set_ref",
	},
	KindMemberRefZero: {
		Status: http.StatusBadRequest, Text: "Relation member 'ref' attribute may not be 0", Positioned: true,
		Source: cgimapTest + "\"Create relation, invalid member ref zero\" (status); text from " + cgimapRelation + "RelationMember::set_ref",
	},
	KindRoleTooLong: {
		Status: http.StatusBadRequest, Text: "Relation Role has more than 255 unicode characters", Positioned: true,
		Source: cgimapTest + "\"Create relation, role with > 255 unicode characters\" (\"… at line 2, column 321\")",
	},
	KindMemberTypeMissing: {
		Status: http.StatusBadRequest, Text: "Missing 'type' attribute in Relation member", Positioned: true,
		Source: cgimapTest + "\"Create relation, member type missing\" (status); text from " + cgimapRelation + "RelationMember::is_valid",
	},
	KindMemberRefMissing: {
		Status: http.StatusBadRequest, Text: "Missing 'ref' attribute in Relation member", Positioned: true,
		Source: cgimapTest + "\"Create relation, member ref missing\" (status); text from " + cgimapRelation + "RelationMember::is_valid",
	},
	KindTooManyMembers: {
		Status: http.StatusBadRequest, Text: "You tried to add %d members to relation %d, however only %d are allowed",
		Source: cgimapTest + "\"Create relation, members >= max members\" (status); text from " + cgimapRelation + "Relation::is_valid",
	},

	KindOsmRootExpected: {
		Status: http.StatusBadRequest, Text: "Unknown top-level element, expecting osm", Positioned: true,
		Source: cgimapCsTest + "\"Invalid XML\" (<invalid>, status); text from " + cgimapCsParser + "on_start_element and " + cgimapNodeInput,
	},
	KindChangesetExpected: {
		Status: http.StatusBadRequest, Text: "Unknown element, expecting changeset", Positioned: true,
		Source: cgimapCsTest + "\"Invalid XML\" (<osm><invalid/></osm>, status); text from " + cgimapCsParser + "on_start_element",
	},
	KindTagExpected: {
		Status: http.StatusBadRequest, Text: "Unknown element, expecting tag", Positioned: true,
		Source: cgimapCsTest + "\"Invalid XML\" (<osm><changeset><invalid/></changeset></osm>, status); text from " + cgimapCsParser + "on_start_element",
	},
	KindNoChangeset: {
		Status: http.StatusBadRequest,
		Text:   "Cannot parse valid changeset from xml string. XML doesn't contain an osm/changeset element", Positioned: true,
		Source: cgimapCsTest + "\"Missing changeset tag\" (<osm/>, status); text from " + cgimapCsParser + "on_end_element",
	},
	KindChangesetKeyEmpty: {
		Status: http.StatusBadRequest, Text: "Key may not be empty", Positioned: true,
		Source: cgimapCsTest + "\"Invalid XML - empty key\" (status); text from " + cgimapCsParser + "add_tag",
	},
	KindChangesetKeyLong: {
		Status: http.StatusBadRequest, Text: "Key has more than 255 unicode characters", Positioned: true,
		Source: cgimapCsTest + "\"Tag: Key with max 255 unicode characters, > 255\" (\"… at line 1, column 292\")",
	},
	KindChangesetValueLong: {
		Status: http.StatusBadRequest, Text: "Value has more than 255 unicode characters", Positioned: true,
		Source: cgimapCsTest + "\"Tag: Value with max 255 unicode characters, > 255\" (\"… at line 1, column 290\")",
	},
	KindChangesetKMissing: {
		Status: http.StatusBadRequest, Text: "Mandatory field k missing in tag element", Positioned: true,
		Source: cgimapCsTest + "\"Tag: Value without key\" (status); text from " + cgimapCsParser + "add_tag",
	},
	KindChangesetVMissing: {
		Status: http.StatusBadRequest, Text: "Mandatory field v missing in tag element", Positioned: true,
		Source: cgimapCsTest + "\"Tag: Key without value\" (status); text from " + cgimapCsParser + "add_tag",
	},
	KindElementExpected: {
		Status: http.StatusBadRequest, Text: "Unknown element, expecting %s", Positioned: true,
		Source: cgimapNodeInput + "NodeXMLParser::on_start_element (\"Unknown element, expecting node\"; way and relation alike)",
	},
	KindNoElement: {
		Status: http.StatusBadRequest,
		Text:   "Cannot parse valid %s from xml string. XML doesn't contain an osm/%s element", Positioned: true,
		Source: cgimapNodeInput + "NodeXMLParser::on_end_element; openstreetmap-website app/models/node.rb Node.from_xml has the same " +
			"sentence with the body quoted",
	},
}

// Error is a refused request body: the HTTP layer answers Status with
// Message as its text. Line and Column are where cgimap says the fault
// is (0 when the message names no position).
type Error struct {
	Kind    Kind
	Status  int
	Message string
	Line    int
	Column  int
}

func (e *Error) Error() string { return e.Message }

// newError formats kind's text with args; line and column are appended
// as cgimap appends them when the kind is positioned.
func newError(kind Kind, line, column int, args ...any) *Error {
	g := GoldenErrors[kind]
	msg := g.Text
	if len(args) > 0 {
		msg = fmt.Sprintf(g.Text, args...)
	}
	e := &Error{Kind: kind, Status: g.Status, Message: msg}
	if g.Positioned && line > 0 {
		e.Line, e.Column = line, column
		e.Message = fmt.Sprintf("%s at line %d, column %d", msg, line, column)
	}
	return e
}
