package editing

import "net/http"

// The answer to a write over the per-user rate limit (server.Config
// WriteRate), in the same golden table as the rest.
const (
	ErrWriteRateLimited ErrorKind = iota + 3000
)

func init() {
	for k, g := range rateLimitGolden {
		Golden[k] = g
	}
}

// rateLimitGolden holds the row of the rate limit; init adds it to
// Golden. cgimap has one 429 text, for uploads over the database's
// api_rate_limit; this server limits every write with it, since cgimap
// has no other, and says when to retry in the Retry-After header.
var rateLimitGolden = map[ErrorKind]GoldenText{
	ErrWriteRateLimited: {
		Status: http.StatusTooManyRequests, Text: "Upload has been blocked due to rate limiting. Please try again later.",
		Source: "cgimap src/api06/changeset_upload_handler.cpp changeset_upload_responder (http::too_many_requests, " +
			"include/cgimap/http.hpp: status 429); no test of cgimap's suite asserts the text",
	},
}
