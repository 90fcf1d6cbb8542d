package editing

import "net/http"

// The answers to credentials that were given and are not valid, and to
// calls that need a user (user details), in the same golden table as the
// rest. All are 401 with WWW-Authenticate, as cgimap sends them
// (src/process_request.cpp respond_401).
const (
	ErrIncorrectPassword ErrorKind = iota + 2000
	ErrInvalidToken
	ErrTokenExpired
	ErrTokenRevoked
	ErrNotAuthenticated
)

func init() {
	for k, g := range authGolden {
		Golden[k] = g
	}
}

// authGolden holds the rows of the credential errors; init adds them to
// Golden.
var authGolden = map[ErrorKind]GoldenText{
	ErrIncorrectPassword: {
		Status: http.StatusUnauthorized, Text: "Incorrect user or password",
		Source: "cgimap src/basicauth.cpp basicauth::authenticate_user (http::unauthorized, unknown user and wrong " +
			"password alike); status in test/test_basicauth.cpp test_authenticate_user \"Known user, incorrect password\" " +
			"and \"Unknown user / incorrect password\"",
	},
	ErrInvalidToken: {
		Status: http.StatusUnauthorized, Text: "invalid_token",
		Source: "cgimap test/test_oauth2.cpp test_validate_bearer_token \"Test invalid bearer token\" (test_authenticate_user::001)",
	},
	ErrTokenExpired: {
		Status: http.StatusUnauthorized, Text: "token_expired",
		Source: "cgimap test/test_oauth2.cpp test_validate_bearer_token \"Test expired bearer token\" (test_authenticate_user::002)",
	},
	ErrTokenRevoked: {
		Status: http.StatusUnauthorized, Text: "token_revoked",
		Source: "cgimap test/test_oauth2.cpp test_validate_bearer_token \"Test revoked bearer token\" (test_authenticate_user::003)",
	},
	ErrNotAuthenticated: {
		Status: http.StatusUnauthorized, Text: "Couldn't authenticate you",
		Source: "openstreetmap-website app/controllers/api_controller.rb authorize (GET /api/0.6/user/details is " +
			"Rails', not cgimap's; WWW-Authenticate: Basic realm=\"Web Password\")",
	},
}
