package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

const (
	insertCurrentWayNodes = `INSERT INTO current_way_nodes (way_id, seq, node_id)
		SELECT w.id, n.seq, n.node_id
		FROM ways w CROSS JOIN LATERAL unnest(w.nodes) WITH ORDINALITY AS n(node_id, seq)
		WHERE w.is_current AND w.visible`
	insertCurrentRelationMembers = `INSERT INTO current_relation_members (relation_id, seq, member_type, member_id, role)
		SELECT r.id, m.seq, m.member_type, m.member_id, m.role
		FROM relations r CROSS JOIN LATERAL unnest(r.member_types, r.member_ids, r.member_roles)
			WITH ORDINALITY AS m(member_type, member_id, role, seq)
		WHERE r.is_current AND r.visible`
)

// deriveCurrentMembers rebuilds the rows of current_way_nodes and
// current_relation_members: of every way and relation when all is set (an
// import, into empty tables), else of the given ones only.
func deriveCurrentMembers(ctx context.Context, tx pgx.Tx, all bool, wayIDs, relationIDs []int64) error {
	if all {
		if _, err := tx.Exec(ctx, insertCurrentWayNodes); err != nil {
			return fmt.Errorf("derive current_way_nodes: %w", err)
		}
		if _, err := tx.Exec(ctx, insertCurrentRelationMembers); err != nil {
			return fmt.Errorf("derive current_relation_members: %w", err)
		}
		return nil
	}
	if len(wayIDs) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM current_way_nodes WHERE way_id = ANY($1)`, wayIDs); err != nil {
			return fmt.Errorf("clear current_way_nodes: %w", err)
		}
		if _, err := tx.Exec(ctx, insertCurrentWayNodes+` AND w.id = ANY($1)`, wayIDs); err != nil {
			return fmt.Errorf("derive current_way_nodes: %w", err)
		}
	}
	if len(relationIDs) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM current_relation_members WHERE relation_id = ANY($1)`, relationIDs); err != nil {
			return fmt.Errorf("clear current_relation_members: %w", err)
		}
		if _, err := tx.Exec(ctx, insertCurrentRelationMembers+` AND r.id = ANY($1)`, relationIDs); err != nil {
			return fmt.Errorf("derive current_relation_members: %w", err)
		}
	}
	return nil
}
