// One editing session of the unmodified npm osm-api@4.0.0 against a
// geocommuns server, driven by editing/clientstest/osm_api_npm_test.go.
//
// It signs in with osm-api's own login() (authorization code + PKCE, the
// popup mode a web app uses), uploads with uploadChangeset (gzip, as the
// library does whenever CompressionStream exists), reads back in JSON,
// then stacks a second changeset on the provisional version of the first.
//
// The browser osm-api expects is played by the Go test: login() opens a
// "popup" whose URL this script prints as {"event":"authorize","url":…};
// the test signs in and consents, and writes the URL the server
// redirected to on stdin; this script posts it on the BroadcastChannel
// osm-api listens on, as the redirect page of a web app would. The only
// shims are the browser globals Node lacks (window, localStorage).
//
// Input, from the environment:
//   OSM_API_URL         the server's base URL (osm-api's apiUrl)
//   OSM_CLIENT_ID       the registered application's client_id
//   OSM_REDIRECT_URL    its redirect URI
//   OSM_FALLBACK_TOKEN  an OAuth 2 access token to go on with if login() fails
//   CLIENTSTEST_FIXTURE JSON {"modify": node, "delete": node}: imported
//                       nodes {id, version, lat, lon, tags} to modify and delete
// Output: one JSON object per line on stdout; the last is
// {"event":"result", …}. Failures of a call are recorded in the result
// (as {"error", "status"}), never thrown, so the test sees every answer.

import OSM from "osm-api";
import { createInterface } from "node:readline";

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function readLine() {
  const { value, done } = await stdinLines.next();
  return done ? "" : value;
}

// What a call answered: its value, or its error as osm-api reports it
// (the message, and the HTTP status in error.cause).
async function attempt(fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err), status: err && err.cause };
  }
}

// The browser globals osm-api's login() uses, nothing else.
const storage = new Map();
globalThis.localStorage = {
  getItem: (k) => (storage.has(k) ? storage.get(k) : null),
  setItem: (k, v) => storage.set(k, String(v)),
  removeItem: (k) => storage.delete(k),
};
globalThis.window = {
  crypto: globalThis.crypto,
  screen: { width: 1280, height: 1024 },
  open() {
    return {
      set location(url) {
        // The popup navigates to the authorization URL: the test's
        // browser takes over and hands back where it was redirected.
        emit({ event: "authorize", url: String(url) });
        readLine().then((redirected) => {
          const channel = new BroadcastChannel("osm-api-auth-complete");
          channel.postMessage(redirected);
          channel.close();
        });
      },
    };
  },
};

const env = process.env;
OSM.configure({ apiUrl: env.OSM_API_URL, userAgent: "geocommuns-clientstest osm-api/4.0.0" });
const fixture = JSON.parse(env.CLIENTSTEST_FIXTURE);
const out = { event: "result" };

out.login = await attempt(() =>
  OSM.login({
    mode: "popup",
    clientId: env.OSM_CLIENT_ID,
    redirectUrl: env.OSM_REDIRECT_URL,
    scopes: ["read_prefs", "write_api"],
  }),
);
out.loggedIn = OSM.isLoggedIn();
if (!out.loggedIn) {
  // Go on with a token from the same flow driven by the test, so that one
  // refusal of the exchange does not hide everything after it.
  OSM.configure({ authHeader: `Bearer ${env.OSM_FALLBACK_TOKEN}` });
}

out.apiCapabilities = await attempt(() => OSM.getApiCapabilities());
out.capabilities = await attempt(() => OSM.getCapabilities());
out.user = await attempt(() => OSM.getUser("me"));

const nodeOf = (n, extraTags) => ({
  type: "node", id: n.id, version: n.version, lat: n.lat, lon: n.lon, tags: { ...n.tags, ...extraTags },
});
const lat = fixture.modify.lat + 0.0005;
const lon = fixture.modify.lon + 0.0005;
out.upload = await attempt(() =>
  OSM.uploadChangeset(
    { comment: "osm-api: a path with a bench" },
    {
      create: [
        { type: "node", id: -1, lat, lon, tags: { amenity: "bench", backrest: "no" } },
        { type: "node", id: -2, lat: lat + 0.0002, lon: lon + 0.0002, tags: {} },
        { type: "way", id: -1, nodes: [-1, -2], tags: { highway: "path", name: "Chemin des Clients" } },
      ],
      modify: [nodeOf(fixture.modify, { wheelchair: "yes" })],
      delete: [nodeOf(fixture.delete, {})],
    },
  ),
);

if (out.upload.value) {
  const [csId, { diffResult }] = Object.entries(out.upload.value)[0];
  const bench = diffResult.node["-1"];
  const corner = diffResult.node["-2"];
  const path = diffResult.way["-1"];
  out.changesetId = +csId;
  out.changeset = await attempt(() => OSM.getChangeset(+csId));
  out.bench = await attempt(() => OSM.getFeature("node", bench.newId));
  out.pathFull = await attempt(() => OSM.getFeature("way", path.newId, true));
  out.nodes = await attempt(() => OSM.getFeatures("node", [bench.newId, corner.newId, fixture.modify.id]));
  out.waysOfBench = await attempt(() => OSM.getWaysForNode(bench.newId));
  out.deleted = await attempt(() => OSM.getFeature("node", fixture.delete.id));
  const pad = 0.001;
  out.map = await attempt(() =>
    OSM.getMapData([lon - pad, lat - pad, lon + pad, lat + pad].map((v) => v.toFixed(7)).join(",")),
  );

  // iD's next edit: a new changeset citing the provisional version the
  // first upload answered.
  out.stacked = await attempt(() =>
    OSM.uploadChangeset(
      { comment: "osm-api: the bench gets a backrest" },
      {
        create: [],
        modify: [{ type: "node", id: bench.newId, version: bench.newVersion, lat, lon, tags: { amenity: "bench", backrest: "yes" } }],
        delete: [],
      },
    ),
  );
  out.benchAfterStack = await attempt(() => OSM.getFeature("node", bench.newId));
}

emit(out);
process.exit(0);
