package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
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

// rederiveCurrentMembers rebuilds the rows of current_way_nodes and
// current_relation_members of the given ways and relations.
func rederiveCurrentMembers(ctx context.Context, tx pgx.Tx, wayIDs, relationIDs []int64) error {
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

// derivedRows buffers, while an import streams ways or relations, the
// rows they derive, for a COPY between two element COPYs: the same rows
// the INSERT … SELECT above writes, at COPY speed (an INSERT … SELECT
// inserts row by row, about three times slower on delaware).
type derivedRows interface {
	add(e *osmdata.Element)
	len() int
	// copy writes the buffered rows and empties the buffer.
	copy(ctx context.Context, tx pgx.Tx) error
}

type wayNodeRows struct {
	wayIDs, nodeIDs []int64
	seqs            []int32
}

func (r *wayNodeRows) add(e *osmdata.Element) {
	for i, n := range e.Nodes {
		r.wayIDs = append(r.wayIDs, e.ID)
		r.seqs = append(r.seqs, int32(i+1))
		r.nodeIDs = append(r.nodeIDs, n)
	}
}

func (r *wayNodeRows) len() int { return len(r.wayIDs) }

func (r *wayNodeRows) copy(ctx context.Context, tx pgx.Tx) error {
	vals := make([]any, 3)
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"current_way_nodes"}, []string{"way_id", "seq", "node_id"},
		pgx.CopyFromSlice(len(r.wayIDs), func(i int) ([]any, error) {
			vals[0], vals[1], vals[2] = r.wayIDs[i], r.seqs[i], r.nodeIDs[i]
			return vals, nil
		}))
	if err != nil {
		return fmt.Errorf("copy current_way_nodes: %w", err)
	}
	r.wayIDs, r.seqs, r.nodeIDs = r.wayIDs[:0], r.seqs[:0], r.nodeIDs[:0]
	return nil
}

type memberRows struct {
	relationIDs, memberIDs []int64
	seqs                   []int32
	types                  []int16
	roles                  []string
}

func (r *memberRows) add(e *osmdata.Element) {
	for i, m := range e.Members {
		r.relationIDs = append(r.relationIDs, e.ID)
		r.seqs = append(r.seqs, int32(i+1))
		r.types = append(r.types, int16(m.Type))
		r.memberIDs = append(r.memberIDs, m.Ref)
		r.roles = append(r.roles, m.Role)
	}
}

func (r *memberRows) len() int { return len(r.relationIDs) }

func (r *memberRows) copy(ctx context.Context, tx pgx.Tx) error {
	vals := make([]any, 5)
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"current_relation_members"}, []string{"relation_id", "seq", "member_type", "member_id", "role"},
		pgx.CopyFromSlice(len(r.relationIDs), func(i int) ([]any, error) {
			vals[0], vals[1], vals[2], vals[3], vals[4] = r.relationIDs[i], r.seqs[i], r.types[i], r.memberIDs[i], r.roles[i]
			return vals, nil
		}))
	if err != nil {
		return fmt.Errorf("copy current_relation_members: %w", err)
	}
	r.relationIDs, r.seqs, r.types, r.memberIDs, r.roles = r.relationIDs[:0], r.seqs[:0], r.types[:0], r.memberIDs[:0], r.roles[:0]
	return nil
}
