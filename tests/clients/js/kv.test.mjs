// KV through nats.js's own API (ADR-8), against the server under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StringCodec } from "nats";
import { useServer } from "./server.mjs";

const sc = StringCodec();
const session = useServer();

async function collect(iterator, count) {
  const out = [];
  for await (const entry of iterator) {
    out.push(entry);
    if (count !== undefined && out.length === count) break;
  }
  return out;
}

test("put, get, create only if absent, update with the expected revision", async () => {
  const kv = await session.js.views.kv("basics", { history: 3 });
  const r1 = await kv.put("color", sc.encode("red"));
  const r2 = await kv.put("color", sc.encode("blue"));
  assert.equal(r2, r1 + 1);
  const entry = await kv.get("color");
  assert.equal(sc.decode(entry.value), "blue");
  assert.equal(entry.revision, r2);
  assert.equal(entry.key, "color");
  await assert.rejects(kv.create("color", sc.encode("green")), /wrong last sequence/);
  const created = await kv.create("shape", sc.encode("round"));
  assert.ok(created > r2);
  await assert.rejects(kv.update("color", sc.encode("x"), r1), /wrong last sequence/);
  const updated = await kv.update("color", sc.encode("green"), r2);
  assert.equal(sc.decode((await kv.get("color")).value), "green");
  assert.ok(updated > created);
  assert.equal(await kv.get("missing"), null);
});

test("delete and purge leave markers; history keeps what the bucket allows", async () => {
  const kv = await session.js.views.kv("markers", { history: 5 });
  for (const value of ["1", "2", "3", "4", "5", "6"]) await kv.put("k", sc.encode(value));
  const history = await collect(await kv.history({ key: "k" }));
  assert.deepEqual(history.map((e) => sc.decode(e.value)), ["2", "3", "4", "5", "6"]);
  await kv.delete("k");
  const deleted = await kv.get("k");
  assert.equal(deleted.operation, "DEL");
  await kv.purge("k");
  const purged = await kv.get("k");
  assert.equal(purged.operation, "PURGE");
  const after = await collect(await kv.history({ key: "k" }));
  assert.deepEqual(after.map((e) => e.operation), ["PURGE"]);
});

test("keys with a filter, and the bucket status", async () => {
  const kv = await session.js.views.kv("listing", { history: 1 });
  for (const key of ["a.one", "a.two", "b.one"]) await kv.put(key, sc.encode(key));
  await kv.delete("a.two");
  const all = (await collect(await kv.keys())).sort();
  assert.deepEqual(all, ["a.one", "b.one"]);
  const filtered = (await collect(await kv.keys("a.>"))).sort();
  assert.deepEqual(filtered, ["a.one"]);
  const status = await kv.status();
  assert.equal(status.bucket, "listing");
  assert.equal(status.history, 1);
  assert.equal(status.values, 3);  // two values and one delete marker
});

test("watch: current values first, then updates; by key pattern, ignoring deletes", async () => {
  const kv = await session.js.views.kv("watched", { history: 5 });
  await kv.put("w.a", sc.encode("before"));
  await kv.put("other", sc.encode("x"));
  const watcher = await kv.watch({ key: "w.>", ignoreDeletes: true });
  const seen = collect(watcher, 3);
  await kv.put("w.b", sc.encode("one"));
  await kv.delete("w.a");
  await kv.put("other", sc.encode("y"));
  await kv.put("w.a", sc.encode("again"));
  const entries = await seen;
  watcher.stop();
  assert.deepEqual(entries.map((e) => `${e.key}=${sc.decode(e.value)}`), ["w.a=before", "w.b=one", "w.a=again"]);

  const updates = await kv.watch({ key: "w.>", include: "updates" });
  const next = collect(updates, 1);
  await kv.put("w.c", sc.encode("new"));
  assert.deepEqual((await next).map((e) => e.key), ["w.c"]);
  updates.stop();

  const everything = await kv.watch({ key: "w.a", include: "history" });
  const all = await collect(everything, 3);
  everything.stop();
  assert.deepEqual(all.map((e) => e.operation), ["PUT", "DEL", "PUT"]);
});

test("bucket names and destroy", async () => {
  await session.js.views.kv("doomed");
  const kvm = await session.js.jetstreamManager();
  const names = [];
  for await (const info of kvm.streams.list()) names.push(info.config.name);
  assert.ok(names.includes("KV_doomed"));
  const kv = await session.js.views.kv("doomed");
  assert.equal(await kv.destroy(), true);
  await assert.rejects(kvm.streams.info("KV_doomed"), /stream not found/);
});
