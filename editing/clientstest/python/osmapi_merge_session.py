"""The editor flow across a merge with Debian's unmodified python3-osmapi,
driven by editing/clientstest/merge_python_test.go.

Run with Debian's /usr/bin/python3 (the interpreter python3-osmapi is
installed for):

    /usr/bin/python3 osmapi_merge_session.py

First an untrusted contributor adds a node and closes its changeset: it
stays submitted. Then a trusted contributor creates two nodes and a way,
modifies one node twice in the same changeset (osmapi keeps provisional
version 3 of it) and closes; the merge makes that node version 1. After
the merge, the contributor edits again citing the versions osmapi kept
from the first changeset's diffResult, as an editor that did not re-read
would.

Input, from the environment:
    OSM_API_URL                    the server's base URL
    OSM_USER, OSM_PASSWORD         the trusted contributor (HTTP Basic)
    OSM_OTHER_USER, OSM_OTHER_PASSWORD  the untrusted contributor

Output: JSON objects, one a line, on stdout. After each close of the
trusted contributor's changesets, {"event": "closed", "changeset": ID};
the script then waits for a line on stdin, which the test writes once it
has seen the changeset merged. The last line is {"event": "result", "steps":
{…}}: each step under its name as {"value": …} or {"error": {"type", "status",
"payload", "message"}}; the session stops at the first step that fails.
"""

import os
import sys

import osmapi

from session import Stop, client, emit, text


def main():
    url = os.environ["OSM_API_URL"]
    author = client(url, os.environ["OSM_USER"], os.environ["OSM_PASSWORD"])
    other = client(url, os.environ["OSM_OTHER_USER"], os.environ["OSM_OTHER_PASSWORD"])
    anonymous = client(url)
    out = {}

    def step(name, fn, *args):
        try:
            value = fn(*args)
        except osmapi.OsmApiError as e:
            out[name] = {"error": {
                "type": type(e).__name__,
                "status": getattr(e, "status", None),
                "payload": text(getattr(e, "payload", "")),
                "message": str(e),
            }}
            raise Stop()
        out[name] = {"value": value}
        return value

    def closed(changeset):
        """Tells the test the changeset is closed; waits until it merged."""
        emit({"event": "closed", "changeset": changeset})
        if not sys.stdin.readline():
            raise Stop()

    try:
        # The untrusted contributor's changeset goes to the reviewers.
        step("other_changeset", other.ChangesetCreate, {"comment": "python osmapi: a bin, for review"})
        step("other_node", other.NodeCreate, {"lat": 43.6121, "lon": 1.4521, "tag": {"amenity": "waste_basket"}})
        step("other_close", other.ChangesetClose)

        # The trusted contributor's first changeset: creates in one
        # osmChange, then two modifies of one node, one through an
        # osmChange and one through NodeUpdate.
        cs1 = step("changeset1", author.ChangesetCreate, {"comment": "python osmapi: a square with a fountain"})
        created = step("upload_create", author.ChangesetUpload, [
            {"type": "node", "action": "create",
             "data": {"id": -1, "lat": 43.6110, "lon": 1.4510, "tag": {"amenity": "fountain"}}},
            {"type": "node", "action": "create",
             "data": {"id": -2, "lat": 43.6112, "lon": 1.4514, "tag": {}}},
            {"type": "way", "action": "create",
             "data": {"id": -1, "nd": [-1, -2], "tag": {"highway": "pedestrian"}}},
        ])
        fountain, corner, square = (c["data"] for c in created)
        modified = step("upload_modify", author.ChangesetUpload, [
            {"type": "node", "action": "modify",
             "data": dict(fountain, tag={"amenity": "fountain", "drinking_water": "no"})},
        ])
        # osmapi wrote the diffResult's version (2) into the change it
        # sent; NodeUpdate cites it and answers 3.
        fountain = modified[0]["data"]
        fountain = step("fountain_update", author.NodeUpdate,
                        dict(fountain, tag={"amenity": "fountain", "drinking_water": "yes"}))
        step("close1", author.ChangesetClose)
        closed(cs1)

        # Authoritative now: anyone reads the merged versions.
        step("changeset1_get", author.ChangesetGet, cs1)
        step("fountain_anonymous", anonymous.NodeGet, fountain["id"])
        step("square_anonymous", anonymous.WayGet, square["id"])

        # The next edit cites what osmapi kept from the diffResults: the
        # fountain at its provisional version 3, the square at 1.
        cs2 = step("changeset2", author.ChangesetCreate, {"comment": "python osmapi: the square grows"})
        step("upload2", author.ChangesetUpload, [
            {"type": "node", "action": "create",
             "data": {"id": -1, "lat": 43.6114, "lon": 1.4518, "tag": {"barrier": "bollard"}}},
            {"type": "way", "action": "modify",
             "data": {"id": square["id"], "version": square["version"],
                      "nd": [fountain["id"], corner["id"], -1],
                      "tag": {"highway": "pedestrian", "name": "Place des Clients"}}},
            {"type": "node", "action": "modify",
             "data": {"id": fountain["id"], "version": fountain["version"],
                      "lat": 43.6111, "lon": 1.4511,
                      "tag": {"amenity": "fountain", "drinking_water": "yes", "name": "Fontaine"}}},
        ])
        step("close2", author.ChangesetClose)
        closed(cs2)
        step("changeset2_get", author.ChangesetGet, cs2)
    except Stop:
        pass
    emit({"event": "result", "steps": out})


if __name__ == "__main__":
    main()
