// Package connectapi serves the Connect RPC services of proto/geocommuns/v1
// (Connect, gRPC and gRPC-Web on the server's one mux): MapService, the
// OSM API's reads with the caller's overlay, and ChangesetService, the
// editing operations of package editing. The handlers are thin: they
// convert messages to osmdata's types and back, and editing's errors to
// Connect codes with details; the semantics live in storage and editing.
//
// The caller's identity is what the server's authentication middleware
// put in the request context (auth.FromContext), so Connect accepts the
// same credentials as the OSM API.
package connectapi

import (
	"log/slog"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/storage"
)

// Config is what the services serve and their limits.
type Config struct {
	// Reader is the authoritative dataset; required.
	Reader storage.Reader
	// Editing serves ChangesetService and lays an authenticated caller's
	// pending changes over MapService's reads. Without it ChangesetService
	// is not mounted and MapService reads the authoritative dataset only.
	Editing *editing.Service
	// MaxReadBytes bounds every request message, compressed and after
	// decompression; larger ones get RESOURCE_EXHAUSTED. Zero means the
	// editing service's upload limit, so that an osmChange too large for
	// the OSM API is too large here too (editing.DefaultMaxUploadBytes,
	// 50 MB, without an editing service). Connect's own default is no
	// limit at all.
	MaxReadBytes int64
	// MaxMapNodes and MaxMapArea limit GetMap (storage.MaxMapNodes and
	// storage.MaxMapArea when zero), as they limit /api/0.6/map.
	MaxMapNodes int
	MaxMapArea  float64
	// Logger receives failures of the store; nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxReadBytes <= 0 {
		c.MaxReadBytes = editing.DefaultMaxUploadBytes
		if c.Editing != nil {
			c.MaxReadBytes = c.Editing.Limits().MaxUploadBytes
		}
	}
	if c.MaxMapNodes <= 0 {
		c.MaxMapNodes = storage.MaxMapNodes
	}
	if c.MaxMapArea <= 0 {
		c.MaxMapArea = storage.MaxMapArea
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Register mounts the services on mux, one route per procedure.
func Register(mux *http.ServeMux, cfg Config) {
	cfg = cfg.withDefaults()
	// Every handler gets the read limit: Connect reads a message of any
	// size by default, and a gzip-compressed request expands in memory.
	opts := []connect.HandlerOption{connect.WithReadMaxBytes(int(cfg.MaxReadBytes))}

	_, mapHandler := geocommunsv1connect.NewMapServiceHandler(&MapServer{
		Reader:      cfg.Reader,
		Editing:     cfg.Editing,
		MaxMapNodes: cfg.MaxMapNodes,
		MaxMapArea:  cfg.MaxMapArea,
		Logger:      cfg.Logger,
	}, opts...)
	handleProcedures(mux, geocommunsv1.File_geocommuns_v1_map_service_proto.Services().ByName("MapService"), mapHandler)
	if cfg.Editing != nil {
		_, changesetHandler := geocommunsv1connect.NewChangesetServiceHandler(&ChangesetServer{
			Editing: cfg.Editing,
			Logger:  cfg.Logger,
		}, opts...)
		handleProcedures(mux, geocommunsv1.File_geocommuns_v1_changeset_service_proto.Services().ByName("ChangesetService"), changesetHandler)
	}
}

// handleProcedures registers a service's handler once per procedure
// (/geocommuns.v1.MapService/GetMap, …) rather than under the service's
// prefix, so that the server's metrics and logs, which go by route
// pattern, tell the procedures apart.
func handleProcedures(mux *http.ServeMux, svc protoreflect.ServiceDescriptor, h http.Handler) {
	methods := svc.Methods()
	for i := range methods.Len() {
		mux.Handle("/"+string(svc.FullName())+"/"+string(methods.Get(i).Name()), h)
	}
}
