package sqlite

import "github.com/geocommuns/geocommuns/storage"

// The next_ids table stands in for PostgreSQL's sequences: one row per
// sequence, named as below, read and advanced inside writing transactions
// (which BEGIN IMMEDIATE serializes).

type sequence struct {
	name  string
	value int64
}

// sequenceValues lists ids by next_ids name.
func sequenceValues(ids storage.IDs) []sequence {
	return []sequence{
		{"node", ids.Node}, {"way", ids.Way}, {"relation", ids.Relation},
		{"changeset", ids.Changeset}, {"user", ids.User},
	}
}

// sequenceField is the field of ids that the next_ids row name holds.
func sequenceField(ids *storage.IDs, name string) *int64 {
	switch name {
	case "node":
		return &ids.Node
	case "way":
		return &ids.Way
	case "relation":
		return &ids.Relation
	case "changeset":
		return &ids.Changeset
	case "user":
		return &ids.User
	}
	return nil
}
