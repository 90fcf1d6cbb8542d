package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/server"
)

// Connect takes the credentials the OSM API takes, and refuses bad ones
// as an unauthenticated error with the API's text, over the Connect and
// gRPC-Web protocols.
func TestConnectCredentials(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d.new)
			base := startServer(t, f.store, server.Config{}, io.Discard)
			for _, protocol := range []struct {
				name string
				opts []connect.ClientOption
			}{{"connect", nil}, {"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}}} {
				client := geocommunsv1connect.NewMapServiceClient(http.DefaultClient, base, protocol.opts...)
				call := func(authorization string) error {
					req := connect.NewRequest(&geocommunsv1.GetElementRequest{Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: 1})
					req.Header().Set("Authorization", authorization)
					_, err := client.GetElement(context.Background(), req)
					return err
				}
				for authorization, want := range map[string]string{
					"Bearer gcpat_never-issued":       "invalid_token",
					"Bearer ory_at_unknown.signature": "invalid_token",
				} {
					err := call(authorization)
					if connect.CodeOf(err) != connect.CodeUnauthenticated {
						t.Errorf("%s, %s: %v, want unauthenticated", protocol.name, authorization, err)
						continue
					}
					var cerr *connect.Error
					if errors.As(err, &cerr) && cerr.Message() != want {
						t.Errorf("%s, %s: message %q, want %q", protocol.name, authorization, cerr.Message(), want)
					}
				}
				// A valid token gets through to the service, which finds no
				// node 1 in an empty dataset.
				if err := call("Bearer " + f.aliceAPIToken); connect.CodeOf(err) != connect.CodeNotFound {
					t.Errorf("%s with a valid API token: %v, want not found", protocol.name, err)
				}
			}
		})
	}
}
