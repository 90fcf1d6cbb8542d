package editing

import "net/http"

// The answer to any call while the database is away (storage.ErrUnavailable),
// in the same golden table as the rest.
const (
	ErrUnavailable ErrorKind = iota + 4000
)

func init() {
	for k, g := range unavailableGolden {
		Golden[k] = g
	}
}

// unavailableGolden holds the row of the database outage; init adds it to
// Golden.
var unavailableGolden = map[ErrorKind]GoldenText{
	ErrUnavailable: {
		Status: http.StatusServiceUnavailable, Text: "Database unavailable, retry later",
		Source: "geocommuns: openstreetmap-website answers 503 \"Database offline for maintenance\" " +
			"(app/controllers/application_controller.rb check_database_readable) when an operator takes the " +
			"database offline; an outage here is not planned maintenance, so the text says what a client should do; " +
			"cgimap answers a lost connection with its exception's text as a 500 (src/process_request.cpp respond_error)",
	},
}
