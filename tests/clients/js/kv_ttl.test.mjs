// KV per-key TTLs through nats.js 3's KV (@nats-io/kv), which builds them on the stream's
// allow_msg_ttl and subject_delete_marker_ttl: a key created with a TTL goes when it is up, and
// watchers see it go as a purge marker that itself goes after the bucket's markerTTL. These
// came in nats-server 2.11, so against nats-server 2.9 the tests are skipped.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { startServer } from "./server.mjs";

const skip = process.env.RT_TEST_SERVER === "nats-server" ? "per-key TTLs came in nats-server 2.11" : false;
let server;
let nc;
before(async () => {
  if (skip) return;
  server = await startServer();
  nc = await connect({ servers: server.url });
});
after(async () => {
  await nc?.close();
  await server?.stop();
});

async function waitFor(condition, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

test("a key created with a TTL expires, and a watcher sees it go", { skip }, async () => {
  const kv = await new Kvm(nc).create("sessions", { markerTTL: 2000 });
  assert.equal((await kv.status()).markerTTL, 2000);
  const watcher = await kv.watch({ key: "session.*" });
  const seen = [];
  const watched = (async () => {
    for await (const entry of watcher) {
      seen.push([entry.key, entry.operation]);
      if (seen.length === 3) break;
    }
  })();
  await kv.create("session.a", "alive", "1s");
  await kv.put("session.b", "stays");
  const started = Date.now();
  await watched;
  assert.ok(Date.now() - started >= 500, "not before its TTL");
  assert.deepEqual(seen, [["session.a", "PUT"], ["session.b", "PUT"], ["session.a", "PURGE"]]);
  const marker = await kv.get("session.a");
  assert.equal(marker.operation, "PURGE");
  assert.equal(marker.length, 0);
  assert.equal((await kv.get("session.b")).string(), "stays");
  // The marker goes after markerTTL; the key can be created again.
  assert.ok(await waitFor(async () => (await kv.get("session.a")) === null, 6000));
  await kv.create("session.a", "again");
  assert.equal((await kv.get("session.a")).string(), "again");
  const keys = [];
  for await (const key of await kv.keys()) keys.push(key);
  assert.deepEqual(keys.sort(), ["session.a", "session.b"]);
});

test("a purge with a TTL leaves a marker that goes after it", { skip }, async () => {
  const kv = await new Kvm(nc).create("purged", { markerTTL: 1000, history: 5 });
  await kv.put("k", "1");
  await kv.put("k", "2");
  await kv.purge("k", { ttl: "1s" });
  const marker = await kv.get("k");
  assert.equal(marker.operation, "PURGE");
  const history = [];
  for await (const entry of await kv.history({ key: "k" })) history.push(entry.operation);
  assert.deepEqual(history, ["PURGE"]);
  assert.ok(await waitFor(async () => (await kv.get("k")) === null, 5000));
  assert.equal((await kv.status()).values, 0);
});

test("a bucket with markers refuses to turn TTLs off", { skip }, async () => {
  const kvm = new Kvm(nc);
  await kvm.create("fixed", { markerTTL: 1000 });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info("KV_fixed");
  assert.equal(info.config.allow_msg_ttl, true);
  await assert.rejects(
    jsm.streams.update("KV_fixed", { ...info.config, allow_msg_ttl: false, subject_delete_marker_ttl: 0 }),
    /message TTL status can not be disabled/,
  );
});
