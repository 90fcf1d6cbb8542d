-- The map call's reverse lookups (the ways using a node, the relations
-- having a member) read only the parent's id from current_way_nodes and
-- current_relation_members, once per node of the box: with the parent id
-- in the index they are index-only scans, one heap page fewer per probe
-- (bench map: a quarter fewer buffers for the 49,000 probes of the
-- 50,000-node call). Index-only scans need the visibility map, which the
-- import sets with a VACUUM of these tables after it commits.

-- +goose Up
CREATE INDEX current_way_nodes_node_way ON current_way_nodes (node_id) INCLUDE (way_id);
DROP INDEX current_way_nodes_node;
CREATE INDEX current_relation_members_member_relation ON current_relation_members (member_type, member_id) INCLUDE (relation_id);
DROP INDEX current_relation_members_member;

-- +goose Down
CREATE INDEX current_relation_members_member ON current_relation_members (member_type, member_id);
DROP INDEX current_relation_members_member_relation;
CREATE INDEX current_way_nodes_node ON current_way_nodes (node_id);
DROP INDEX current_way_nodes_node_way;
