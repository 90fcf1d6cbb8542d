// The editor flow across a merge with the unmodified npm osm-api@4.0.0,
// driven by editing/clientstest/merge_npm_test.go.
//
// First an untrusted contributor uploads a node: its changeset stays
// submitted. Then a trusted contributor uploads, in one osmChange, two
// nodes and a way, and two modifies of the first node by its placeholder
// id (osm-api keeps the last diffResult line of an old id: provisional
// version 3); uploadChangeset closes the changeset and the merge makes
// the node version 1. After the merge, the next edit cites the versions
// osm-api returned, as iD does with what it kept from its last upload.
//
// Input, from the environment:
//   OSM_API_URL          the server's base URL (osm-api's apiUrl)
//   OSM_ACCESS_TOKEN     the trusted contributor's OAuth 2 access token
//   OSM_OTHER_TOKEN      the untrusted contributor's
// Output: one JSON object per line on stdout. After each of the trusted
// contributor's uploads (which close their changesets),
// {"event":"closed","changeset":ID}; the script then waits for a line on
// stdin, which the test writes once it has seen the changeset merged. The
// last line is {"event":"result", …}; failures of a call are recorded in
// it (as {"error", "status"}), never thrown.

import OSM from "osm-api";
import { createInterface } from "node:readline";

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function readLine() {
  const { value, done } = await stdinLines.next();
  return done ? null : value;
}

async function attempt(fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err), status: err && err.cause };
  }
}

const env = process.env;
OSM.configure({ apiUrl: env.OSM_API_URL, authHeader: `Bearer ${env.OSM_ACCESS_TOKEN}` });
// What osm-api sends when nobody is logged in: an empty Authorization.
const anonymous = { headers: { Authorization: "" } };
const out = { event: "result" };

// Announces a close and waits until the test saw the changeset merged.
async function closed(changeset) {
  emit({ event: "closed", changeset });
  return (await readLine()) !== null;
}

const onlyChangeset = (result) => {
  const [csId, { diffResult }] = Object.entries(result)[0];
  return [+csId, diffResult];
};

out.other = await attempt(() =>
  OSM.uploadChangeset(
    { comment: "osm-api: a bin, for review" },
    { create: [{ type: "node", id: -1, lat: 43.6121, lon: 1.4521, tags: { amenity: "waste_basket" } }], modify: [], delete: [] },
    { headers: { Authorization: `Bearer ${env.OSM_OTHER_TOKEN}` } },
  ),
);

const fountainAt = { lat: 43.611, lon: 1.451 };
out.upload1 = await attempt(() =>
  OSM.uploadChangeset(
    { comment: "osm-api: a square with a fountain" },
    {
      create: [
        { type: "node", id: -1, ...fountainAt, tags: { amenity: "fountain" } },
        { type: "node", id: -2, lat: 43.6112, lon: 1.4514, tags: {} },
        { type: "way", id: -1, nodes: [-1, -2], tags: { highway: "pedestrian" } },
      ],
      modify: [
        { type: "node", id: -1, version: 1, ...fountainAt, tags: { amenity: "fountain", drinking_water: "no" } },
        { type: "node", id: -1, version: 2, ...fountainAt, tags: { amenity: "fountain", drinking_water: "yes" } },
      ],
      delete: [],
    },
  ),
);

if (out.upload1.value && (await closed(onlyChangeset(out.upload1.value)[0]))) {
  const [cs1, diff1] = onlyChangeset(out.upload1.value);
  const fountain = diff1.node["-1"];
  const corner = diff1.node["-2"];
  const square = diff1.way["-1"];

  // Authoritative now: anyone reads the merged versions.
  out.changeset1 = await attempt(() => OSM.getChangeset(cs1));
  out.fountainAnonymous = await attempt(() => OSM.getFeature("node", fountain.newId, false, anonymous));
  out.squareAnonymous = await attempt(() => OSM.getFeature("way", square.newId, true, anonymous));

  // The next edit cites the versions osm-api returned: the fountain at
  // its provisional 3, the square at 1.
  out.upload2 = await attempt(() =>
    OSM.uploadChangeset(
      { comment: "osm-api: the square grows" },
      {
        create: [{ type: "node", id: -1, lat: 43.6114, lon: 1.4518, tags: { barrier: "bollard" } }],
        modify: [
          {
            type: "way", id: square.newId, version: square.newVersion, nodes: [fountain.newId, corner.newId, -1],
            tags: { highway: "pedestrian", name: "Place des Clients" },
          },
          {
            type: "node", id: fountain.newId, version: fountain.newVersion, lat: 43.6111, lon: 1.4511,
            tags: { amenity: "fountain", drinking_water: "yes", name: "Fontaine" },
          },
        ],
        delete: [],
      },
    ),
  );
  if (out.upload2.value && (await closed(onlyChangeset(out.upload2.value)[0]))) {
    out.changeset2 = await attempt(() => OSM.getChangeset(onlyChangeset(out.upload2.value)[0]));
  }
}

emit(out);
process.exit(0);
