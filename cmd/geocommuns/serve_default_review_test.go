package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
)

// TestServeDefaultReview: `geocommuns serve` without --review-config
// still puts the Gate in front of the merge: a trusted contributor's
// clean changeset merges by itself, anyone else's is validated and waits
// in the fallback scope until a reviewer (any, since no scope names one)
// approves it over ReviewService.
func TestServeDefaultReview(t *testing.T) {
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			importSmallExtract(t, ds, t.TempDir())
			token := func(args ...string) string {
				r := runBinary(t, nil, append(append([]string{"user", "add"}, args...), ds.flags...)...)
				if r.exit != 0 {
					t.Fatalf("user add %v: %d %s", args, r.exit, r.stderr)
				}
				return strings.TrimSpace(r.stdout)
			}
			tom := &mapper{token: token("tom", "--trusted")}
			alice := &mapper{token: token("alice")}
			ritaToken := token("rita", "--role", "reviewer")

			s := startServe(t, append(slices.Clone(ds.flags), "--merge-poll", "200ms")...)
			reviews := geocommunsv1connect.NewReviewServiceClient(http.DefaultClient, s.base)

			clean := editBench(t, s, tom, 1, `<tag k="amenity" v="bench"/><tag k="backrest" v="yes"/>`)
			waitChangesetState(t, s, clean, "merged")
			if tags := benchTags(t, s); tags["backrest"] != "yes" {
				t.Errorf("tom's merged changeset %d: the bench reads %v, want backrest=yes", clean, tags)
			}

			waiting := editBench(t, s, alice, 2, `<tag k="amenity" v="bench"/><tag k="backrest" v="yes"/><tag k="material" v="wood"/>`)
			var detail *geocommunsv1.GetReviewResponse
			deadline := time.Now().Add(30 * time.Second)
			for {
				d, err := reviews.GetReview(context.Background(), connect.NewRequest(&geocommunsv1.GetReviewRequest{ChangesetId: waiting}))
				if err != nil {
					t.Fatalf("GetReview %d: %v", waiting, err)
				}
				if d.Msg.GetValidatedAt() != nil && len(d.Msg.GetScopes()) > 0 {
					detail = d.Msg
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the Gate did not validate alice's changeset %d within 30 s: %v\n%s", waiting, d.Msg, s.log())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if sc := detail.GetScopes(); len(sc) != 1 || sc[0].GetScope() != "fallback" || sc[0].GetApprovedBy() != 0 {
				t.Errorf("scopes of alice's changeset %d: %v, want the fallback scope alone, open", waiting, sc)
			}
			// The merge job polls every 200 ms: give it time to merge what
			// it should not.
			time.Sleep(time.Second)
			if st := changesetState(t, s, waiting); st != "submitted" {
				t.Fatalf("alice's changeset %d without a reviewer is %q, want submitted", waiting, st)
			}
			if tags := benchTags(t, s); tags["material"] != "" {
				t.Fatalf("alice's unreviewed edit is on the map: %v", tags)
			}

			req := connect.NewRequest(&geocommunsv1.ApproveRequest{ChangesetId: waiting})
			req.Header().Set("Authorization", "Bearer "+ritaToken)
			if _, err := reviews.Approve(context.Background(), req); err != nil {
				t.Fatalf("rita approves alice's changeset %d: %v", waiting, err)
			}
			waitChangesetState(t, s, waiting, "merged")
			if tags := benchTags(t, s); tags["material"] != "wood" {
				t.Errorf("alice's approved changeset %d merged, yet the bench reads %v, want material=wood", waiting, tags)
			}
			if code := s.stop(t); code != 0 {
				t.Errorf("serve exited %d:\n%s", code, s.log())
			}
		})
	}
}

// editBench retags node 1 of smallExtract, the bench, at version in a
// changeset of m's, and closes it.
func editBench(t *testing.T, s *serveProcess, m *mapper, version int, tags string) int64 {
	t.Helper()
	cs, err := m.open(s.base)
	if err != nil {
		t.Fatalf("open a changeset: %v", err)
	}
	if _, err := m.upload(s.base, cs, fmt.Sprintf(`<osmChange version="0.6"><modify>
		<node id="1" version="%d" changeset="%d" lat="42.5" lon="1.5">%s</node></modify></osmChange>`, version, cs, tags)); err != nil {
		t.Fatalf("upload to changeset %d: %v", cs, err)
	}
	if err := m.close(s.base, cs); err != nil {
		t.Fatalf("close changeset %d: %v", cs, err)
	}
	return cs
}

// benchTags reads the bench as an anonymous reader sees it.
func benchTags(t *testing.T, s *serveProcess) map[string]string {
	t.Helper()
	status, body := s.get(t, "/api/0.6/node/1")
	var doc struct {
		Tags []struct {
			K string `xml:"k,attr"`
			V string `xml:"v,attr"`
		} `xml:"node>tag"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
		t.Fatalf("node 1: %d %s (%v)", status, body, err)
	}
	tags := map[string]string{}
	for _, tg := range doc.Tags {
		tags[tg.K] = tg.V
	}
	return tags
}

func changesetState(t *testing.T, s *serveProcess, id int64) string {
	t.Helper()
	status, body := s.get(t, fmt.Sprintf("/api/0.6/changeset/%d", id))
	var doc struct {
		Changeset struct {
			ReviewState string `xml:"review_state,attr"`
		} `xml:"changeset"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
		t.Fatalf("changeset %d: %d %s (%v)", id, status, body, err)
	}
	return doc.Changeset.ReviewState
}

func waitChangesetState(t *testing.T, s *serveProcess, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := changesetState(t, s, id)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("changeset %d is %q after 30 s, want %q\n%s", id, got, want, s.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
