package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
)

// importAggregates gathers, while streaming, what the users and changesets
// tables and the sequences need.
type importAggregates struct {
	elements   int64
	users      map[int64]*importedUser
	changesets map[int64]*importedChangeset
	maxID      map[osmdata.ElementType]int64
}

type importedUser struct {
	name    string
	created time.Time
}

type importedChangeset struct {
	uid             int64
	user            string
	created, closed time.Time
	changes         int32
	hasBox          bool
	box             osmdata.Box
}

func newImportAggregates() *importAggregates {
	return &importAggregates{
		users:      map[int64]*importedUser{},
		changesets: map[int64]*importedChangeset{},
		maxID:      map[osmdata.ElementType]int64{},
	}
}

func (a *importAggregates) add(e *osmdata.Element) {
	a.elements++
	if e.ID > a.maxID[e.Type] {
		a.maxID[e.Type] = e.ID
	}
	// uid 0 without a name is an anonymous edit (or a file without
	// metadata), not a user.
	if e.UID != 0 || e.User != "" {
		u := a.users[e.UID]
		if u == nil {
			a.users[e.UID] = &importedUser{name: e.User, created: e.Timestamp}
		} else {
			u.name = e.User
			if e.Timestamp.Before(u.created) {
				u.created = e.Timestamp
			}
		}
	}
	if e.Changeset == 0 {
		return
	}
	c := a.changesets[e.Changeset]
	if c == nil {
		c = &importedChangeset{uid: e.UID, user: e.User, created: e.Timestamp, closed: e.Timestamp}
		a.changesets[e.Changeset] = c
	}
	c.changes++
	if e.Timestamp.Before(c.created) {
		c.created = e.Timestamp
	}
	if e.Timestamp.After(c.closed) {
		c.closed = e.Timestamp
	}
	if e.Type == osmdata.Node && e.Visible {
		if !c.hasBox {
			c.hasBox = true
			c.box = osmdata.Box{MinLat: e.Lat, MinLon: e.Lon, MaxLat: e.Lat, MaxLon: e.Lon}
		} else {
			c.box.MinLat, c.box.MaxLat = min(c.box.MinLat, e.Lat), max(c.box.MaxLat, e.Lat)
			c.box.MinLon, c.box.MaxLon = min(c.box.MinLon, e.Lon), max(c.box.MaxLon, e.Lon)
		}
	}
}

func (a *importAggregates) insertUsers(ctx context.Context, tx pgx.Tx) (int64, error) {
	ids := make([]int64, 0, len(a.users))
	names := make([]string, 0, len(a.users))
	created := make([]time.Time, 0, len(a.users))
	for id, u := range a.users {
		ids = append(ids, id)
		names = append(names, u.name)
		created = append(created, u.created)
	}
	// A user that already exists (an account made before the import)
	// keeps its own row.
	tag, err := tx.Exec(ctx, `INSERT INTO users (id, display_name, created_at)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])
		ON CONFLICT (id) DO NOTHING`, ids, names, created)
	if err != nil {
		return 0, fmt.Errorf("insert users: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (a *importAggregates) insertChangesets(ctx context.Context, tx pgx.Tx) (int64, error) {
	n := len(a.changesets)
	ids, uids := make([]int64, 0, n), make([]int64, 0, n)
	names := make([]string, 0, n)
	created, closed := make([]time.Time, 0, n), make([]time.Time, 0, n)
	changes := make([]int32, 0, n)
	minLat, minLon, maxLat, maxLon := make([]*int32, 0, n), make([]*int32, 0, n), make([]*int32, 0, n), make([]*int32, 0, n)
	for id, c := range a.changesets {
		ids, uids, names = append(ids, id), append(uids, c.uid), append(names, c.user)
		created, closed, changes = append(created, c.created), append(closed, c.closed), append(changes, c.changes)
		if c.hasBox {
			b := c.box
			minLat, minLon, maxLat, maxLon = append(minLat, &b.MinLat), append(minLon, &b.MinLon), append(maxLat, &b.MaxLat), append(maxLon, &b.MaxLon)
		} else {
			minLat, minLon, maxLat, maxLon = append(minLat, nil), append(minLon, nil), append(maxLat, nil), append(maxLon, nil)
		}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO changesets
			(id, user_id, user_name, created_at, closed_at, is_open, num_changes,
			 min_lat, min_lon, max_lat, max_lon, review_state)
		SELECT id, uid, name, created, closed, false, changes, min_lat, min_lon, max_lat, max_lon, 'merged'
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[],
			$7::int[], $8::int[], $9::int[], $10::int[])
			AS c(id, uid, name, created, closed, changes, min_lat, min_lon, max_lat, max_lon)
		ON CONFLICT (id) DO NOTHING`,
		ids, uids, names, created, closed, changes, minLat, minLon, maxLat, maxLon)
	if err != nil {
		return 0, fmt.Errorf("insert changesets: %w", err)
	}
	return tag.RowsAffected(), nil
}

// moveSequences sets each id sequence above the largest imported id (and
// never backwards).
func (a *importAggregates) moveSequences(ctx context.Context, tx pgx.Tx) error {
	var maxChangeset, maxUser int64
	for id := range a.changesets {
		maxChangeset = max(maxChangeset, id)
	}
	for id := range a.users {
		maxUser = max(maxUser, id)
	}
	_, err := tx.Exec(ctx, `SELECT
		setval('node_id_seq', greatest($1::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM node_id_seq)), false),
		setval('way_id_seq', greatest($2::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM way_id_seq)), false),
		setval('relation_id_seq', greatest($3::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM relation_id_seq)), false),
		setval('changeset_id_seq', greatest($4::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM changeset_id_seq)), false),
		setval('user_id_seq', greatest($5::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM user_id_seq)), false)`,
		a.maxID[osmdata.Node]+1, a.maxID[osmdata.Way]+1, a.maxID[osmdata.Relation]+1, maxChangeset+1, maxUser+1)
	if err != nil {
		return fmt.Errorf("move id sequences: %w", err)
	}
	return nil
}
