-- The reverse lookups of pending content (which pending ways and
-- relations refer to an element) index blocks of 64 consecutive ids
-- instead of single ids: an upload's created ways refer to nodes it
-- created, whose ids are consecutive, so a way's references fall in one
-- or two blocks and an upload writes about an eighth of the rows it
-- wrote with one per reference. Readers already take these rows as
-- candidates and check the content of the latest row, so a block's other
-- ids cost a few more candidates, not a wrong answer. The block of id is
-- id >> 6 (refBlockBits in pending.go).

-- +goose Up
CREATE TABLE pending_ref_blocks (
    author_id bigint   NOT NULL,
    elem_type smallint NOT NULL,
    elem_id   bigint   NOT NULL,
    ref_type  smallint NOT NULL,
    ref_block bigint   NOT NULL
);
INSERT INTO pending_ref_blocks (author_id, elem_type, elem_id, ref_type, ref_block)
    SELECT DISTINCT author_id, elem_type, elem_id, ref_type, ref_id >> 6 FROM pending_refs;
-- Covering, for index-only scans.
CREATE INDEX pending_ref_blocks_ref ON pending_ref_blocks (ref_type, ref_block, author_id, elem_type, elem_id);
DROP TABLE pending_refs;

-- +goose Down
CREATE TABLE pending_refs (
    author_id bigint   NOT NULL,
    elem_type smallint NOT NULL,
    elem_id   bigint   NOT NULL,
    ref_type  smallint NOT NULL,
    ref_id    bigint   NOT NULL
);
-- Every reference of every visible pending way and relation: a superset
-- of what the blocks stood for, which readers filter anyway.
INSERT INTO pending_refs (author_id, elem_type, elem_id, ref_type, ref_id)
    SELECT DISTINCT author_id, elem_type, elem_id, 1, unnest(nodes) FROM pending_changes
    WHERE elem_type = 2 AND visible
    UNION
    SELECT DISTINCT p.author_id, p.elem_type, p.elem_id, m.t, m.id
    FROM pending_changes p, unnest(p.member_types, p.member_ids) AS m(t, id)
    WHERE p.elem_type = 3 AND p.visible;
CREATE INDEX pending_refs_ref ON pending_refs (ref_type, ref_id, author_id, elem_type, elem_id);
DROP TABLE pending_ref_blocks;
