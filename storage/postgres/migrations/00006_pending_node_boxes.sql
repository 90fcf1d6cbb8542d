-- The author's pending nodes in a box (the map call's overlay) are found
-- through a small directory of boxes instead of a quadtile index on
-- pending_changes: that index cost every staged node an index entry,
-- about a quarter of what staging a node cost, and it kept the nodes of
-- merged and rejected changesets, which the overlay never shows.
--
-- Each upload sorts the visible nodes it stages by quadtile and cuts them
-- into runs of up to 64 nodes within one zoom-14 tile (nodeRuns in
-- stage.go); a run's row holds its ids and the box of their positions. The overlay reads the runs of the
-- author's active changesets whose box meets the box asked for, then the
-- pending rows of their ids by primary key, and keeps those inside the
-- box: a row holds the latest content of its element in its changeset,
-- so a run listing a node a later upload moved or deleted costs a probe,
-- never a wrong answer, and the later upload's own run lists the node at
-- its new position.

-- +goose Up
CREATE TABLE pending_node_boxes (
    changeset_id bigint   NOT NULL,
    min_lat      integer  NOT NULL,
    min_lon      integer  NOT NULL,
    max_lat      integer  NOT NULL,
    max_lon      integer  NOT NULL,
    node_ids     bigint[] NOT NULL
);
CREATE INDEX pending_node_boxes_changeset ON pending_node_boxes (changeset_id);
-- Existing changesets get one run each.
INSERT INTO pending_node_boxes (changeset_id, min_lat, min_lon, max_lat, max_lon, node_ids)
    SELECT changeset_id, min(lat), min(lon), max(lat), max(lon), array_agg(elem_id)
    FROM pending_changes WHERE elem_type = 1 AND visible
    GROUP BY changeset_id;
DROP INDEX pending_changes_tile;
ALTER TABLE pending_changes DROP COLUMN tile;

-- +goose Down
-- The tiles again, computed as osmdata.QuadTile does: x and y rounded half
-- away from zero from the same float8 operations, interleaved x first.
ALTER TABLE pending_changes ADD COLUMN tile bigint;
UPDATE pending_changes SET tile = (
    SELECT sum((((q.x >> i) & 1) << (2 * i + 1)) | (((q.y >> i) & 1) << (2 * i)))::bigint
    FROM (SELECT
            CASE WHEN fx - floor(fx) >= 0.5 THEN ceil(fx) ELSE floor(fx) END::bigint AS x,
            CASE WHEN fy - floor(fy) >= 0.5 THEN ceil(fy) ELSE floor(fy) END::bigint AS y
          FROM (SELECT (lon::float8 / 1e7 + 180) * 65535 / 360 AS fx,
                       (lat::float8 / 1e7 + 90) * 65535 / 180 AS fy) AS f) AS q,
         generate_series(0, 15) AS i)
    WHERE elem_type = 1;
CREATE INDEX pending_changes_tile ON pending_changes (author_id, tile, lat, lon)
    WHERE elem_type = 1 AND visible;
DROP TABLE pending_node_boxes;
