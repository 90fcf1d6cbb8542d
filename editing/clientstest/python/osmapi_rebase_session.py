"""Two contributors set the same tag of the café to different values
with Debian's unmodified python3-osmapi, driven by
editing/clientstest/rebase_python_test.go.

Run with Debian's /usr/bin/python3 (the interpreter python3-osmapi is
installed for):

    /usr/bin/python3 osmapi_rebase_session.py

Both read the café, and each updates its opening_hours in a changeset of
their own, citing the version they read. The first closes and merges.
The second closes: its changeset is conflicted and reopened. Its author
reads the changeset with its discussion (the conflict report's summary),
the café as they see it (their pending edit) and as it is now. With
OSM_RESOLVE=1, it then uploads a modify citing the current version to
the reopened changeset, and closes it again; it merges.

Input, from the environment:
    OSM_API_URL                         the server's base URL
    OSM_USER, OSM_PASSWORD              the first contributor (HTTP Basic)
    OSM_OTHER_USER, OSM_OTHER_PASSWORD  the second contributor
    OSM_NODE_ID                         the café's node id
    OSM_RESOLVE                         "1": resolve the conflict

Output: JSON objects, one a line, on stdout. After each close,
{"event": "closed", "changeset": ID, "expect": "merged" | "conflicted"};
the script then waits for a line on stdin, which the test writes once
the changeset reached that state. The last line is {"event": "result",
"steps": {…}}: each step under its name as {"value": …} or {"error":
{"type", "status", "payload", "message"}}; the session stops at the
first step that fails.
"""

import os
import sys

import osmapi

from session import Stop, client, emit, text

FIRST_HOURS = "Mo-Fr 08:00-18:00"
SECOND_HOURS = "Mo-Sa 07:30-19:00"


def main():
    url = os.environ["OSM_API_URL"]
    first = client(url, os.environ["OSM_USER"], os.environ["OSM_PASSWORD"])
    second = client(url, os.environ["OSM_OTHER_USER"], os.environ["OSM_OTHER_PASSWORD"])
    anonymous = client(url)
    node_id = int(os.environ["OSM_NODE_ID"])
    out = {}

    def step(name, fn, *args, **kwargs):
        try:
            value = fn(*args, **kwargs)
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

    def closed(changeset, expect):
        """Tells the test the changeset is closed; waits until it is in
        the state expected."""
        emit({"event": "closed", "changeset": changeset, "expect": expect})
        if not sys.stdin.readline():
            raise Stop()

    try:
        # Both read version 3 of the café, then edit it.
        cafe1 = step("first_read", first.NodeGet, node_id)
        cafe2 = step("second_read", second.NodeGet, node_id)
        cs1 = step("first_changeset", first.ChangesetCreate, {"comment": "python osmapi: the café's hours"})
        step("first_update", first.NodeUpdate, _edited(cafe1, FIRST_HOURS))
        cs2 = step("second_changeset", second.ChangesetCreate, {"comment": "python osmapi: the café opens on Saturdays"})
        step("second_update", second.NodeUpdate, _edited(cafe2, SECOND_HOURS))

        step("first_close", first.ChangesetClose)
        closed(cs1, "merged")
        step("second_close", second.ChangesetClose)
        closed(cs2, "conflicted")

        # The contributor reads why; signed in, they still see their own
        # pending edit; the café as it is now is what anyone reads.
        step("second_conflicted", second.ChangesetGet, cs2, include_discussion=True)
        step("second_own_view", second.NodeGet, node_id)
        current = step("cafe_current", anonymous.NodeGet, node_id)
        if os.environ.get("OSM_RESOLVE") == "1":
            # osmapi has no call to resume a changeset it did not open in
            # this session (ChangesetClose forgot it): point it at the
            # reopened one.
            second._CurrentChangesetId = cs2
            step("second_resolve", second.NodeUpdate, _edited(current, SECOND_HOURS))
            step("second_close_again", second.ChangesetClose)
            closed(cs2, "merged")
            step("second_merged", anonymous.ChangesetGet, cs2)
            step("cafe_history", anonymous.NodeHistory, node_id)
    except Stop:
        pass
    emit({"event": "result", "steps": out})


def _edited(node, hours):
    """The node as read, citing its version, with opening_hours set."""
    return {"id": node["id"], "version": node["version"], "lat": node["lat"], "lon": node["lon"],
            "tag": dict(node["tag"], opening_hours=hours)}


if __name__ == "__main__":
    main()
