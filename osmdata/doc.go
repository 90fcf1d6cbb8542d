// Package osmdata holds geocommuns' domain types (OpenStreetMap elements,
// changesets, users, boxes) and the OSM wire formats that every other
// package shares. It sits on the ground floor: it imports nothing of
// geocommuns, so editing, review, sync, storage and bench can all use it
// without importing each other.
package osmdata
