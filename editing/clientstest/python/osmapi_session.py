"""One editing session of Debian's unmodified python3-osmapi against a
geocommuns server, driven by editing/clientstest/python_osmapi_test.go.

Run with Debian's /usr/bin/python3 (the interpreter python3-osmapi is
installed for):

    /usr/bin/python3 osmapi_session.py

Input, from the environment:
    OSM_API_URL          the server's base URL
    OSM_USER, OSM_PASSWORD  the author's credentials (HTTP Basic)
    CLIENTSTEST_FIXTURE  JSON {"modify": node, "delete": node, "way": way}:
                         imported elements to modify, delete and read

Output: one JSON object on stdout, each step under its name as
{"value": …} or {"error": {"type", "status", "payload"}}; the session
stops at the first step that fails, so later steps are absent.
"""

import json
import os
import sys

import osmapi

from session import Stop, json_default, text


def main():
    fixture = json.loads(os.environ["CLIENTSTEST_FIXTURE"])
    api = osmapi.OsmApi(
        api=os.environ["OSM_API_URL"],
        username=os.environ["OSM_USER"],
        password=os.environ["OSM_PASSWORD"],
    )
    # osmapi retries failed calls five times, 5 s apart: one try each here,
    # so that a refusal is reported at once.
    api._session.MAX_RETRY_LIMIT = 1
    out = {"osmapi_version": {"value": osmapi.__version__}}

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

    def read(name, fn, *args):
        """A read whose refusal is an answer to record, not the end."""
        try:
            step(name, fn, *args)
        except Stop:
            pass

    cafe, gate, way = fixture["modify"], fixture["delete"], fixture["way"]
    try:
        # The first changeset: single-element calls, then an osmChange.
        cs1 = step("changeset1", api.ChangesetCreate, {"comment": "python osmapi: a footway with a bench"})
        bench = step("bench_create", api.NodeCreate,
                     {"lat": 43.6104, "lon": 1.4501, "tag": {"amenity": "bench"}})
        end = step("end_create", api.NodeCreate, {"lat": 43.6106, "lon": 1.4503, "tag": {}})
        footway = step("footway_create", api.WayCreate,
                       {"nd": [bench["id"], end["id"]], "tag": {"highway": "footway"}})
        # NodeUpdate cites the version NodeCreate returned: provisional.
        bench = step("bench_update", api.NodeUpdate, dict(bench, tag={"amenity": "bench", "backrest": "no"}))
        step("upload1", api.ChangesetUpload, [
            {"type": "node", "action": "create",
             "data": {"id": -1, "lat": 43.6108, "lon": 1.4505, "tag": {"entrance": "yes"}}},
            {"type": "way", "action": "modify",
             "data": {"id": footway["id"], "version": footway["version"],
                      "nd": [bench["id"], end["id"], -1], "tag": {"highway": "footway", "surface": "gravel"}}},
            {"type": "node", "action": "modify",
             "data": {"id": cafe["id"], "version": cafe["version"], "lat": cafe["lat"], "lon": cafe["lon"],
                      "tag": dict(cafe["tags"], name="Le Nouveau Café")}},
            {"type": "node", "action": "delete",
             "data": {"id": gate["id"], "version": gate["version"], "lat": gate["lat"], "lon": gate["lon"]}},
        ])
        step("close1", api.ChangesetClose)

        # Read back as the author (osmapi sends its credentials on every
        # call, so these reads see the author's pending changes).
        read("bench_get", api.NodeGet, bench["id"])
        read("footway_get", api.WayGet, footway["id"])
        read("footway_full", api.WayFull, footway["id"])
        read("bench_ways", api.NodeWays, bench["id"])
        read("map", api.Map, 1.4495, 43.6100, 1.4510, 43.6112)
        read("cafe_get", api.NodeGet, cafe["id"])
        read("gate_get", api.NodeGet, gate["id"])
        read("service_way_get", api.WayGet, way["id"])
        read("changeset1_get", api.ChangesetGet, cs1)
        read("changeset1_download", api.ChangesetDownload, cs1)

        # The next changeset on the same elements, citing the provisional
        # versions the first one answered: it stacks on the first.
        cs2 = step("changeset2", api.ChangesetCreate, {"comment": "python osmapi: the bench gets a backrest"})
        bench_v = out["bench_get"]["value"]
        step("bench_update2", api.NodeUpdate, {
            "id": bench["id"], "version": bench_v["version"], "lat": bench_v["lat"], "lon": bench_v["lon"],
            "tag": {"amenity": "bench", "backrest": "yes"}})
        footway_v = out["footway_get"]["value"]
        cafe_v = out["cafe_get"]["value"]
        step("upload2", api.ChangesetUpload, [
            {"type": "way", "action": "modify",
             "data": {"id": footway["id"], "version": footway_v["version"], "nd": footway_v["nd"],
                      "tag": dict(footway_v["tag"], lit="no")}},
            {"type": "node", "action": "modify",
             "data": {"id": cafe["id"], "version": cafe_v["version"], "lat": cafe_v["lat"], "lon": cafe_v["lon"],
                      "tag": dict(cafe_v["tag"], opening_hours="Mo-Sa 08:00-18:00")}},
        ])
        step("close2", api.ChangesetClose)
        read("bench_get2", api.NodeGet, bench["id"])
        read("footway_get2", api.WayGet, footway["id"])
        read("cafe_get2", api.NodeGet, cafe["id"])
        read("changeset2_get", api.ChangesetGet, cs2)
    except Stop:
        pass
    json.dump(out, sys.stdout, default=json_default)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
