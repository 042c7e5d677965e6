// The object store through nats.js's own API (ADR-20), against the server under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { useServer } from "./server.mjs";

const session = useServer();

function streamOf(bytes) {
  return new ReadableStream({ start(controller) { controller.enqueue(bytes); controller.close(); } });
}

async function read(result) {
  const chunks = [];
  for await (const chunk of result.data) chunks.push(chunk);
  assert.ok(!(await result.error), "the digest matched");
  return Buffer.concat(chunks);
}

test("put and get a large object in chunks, its digest checked", async () => {
  const os = await session.js.views.os("files");
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const info = await os.put({ name: "big.bin", description: "five megabytes" }, streamOf(data));
  assert.equal(info.size, data.length);
  assert.ok(info.chunks > 1);
  assert.match(info.digest, /^SHA-256=/);
  const back = await read(await os.get("big.bin"));
  assert.equal(Buffer.compare(back, data), 0);
  const described = await os.info("big.bin");
  assert.equal(described.description, "five megabytes");
  assert.equal(described.size, data.length);
});

test("list, delete, and a replaced object", async () => {
  const os = await session.js.views.os("listed");
  await os.putBlob({ name: "a" }, new TextEncoder().encode("first"));
  await os.putBlob({ name: "b" }, new TextEncoder().encode("second"));
  await os.putBlob({ name: "a" }, new TextEncoder().encode("replaced"));
  assert.deepEqual((await os.list()).map((e) => e.name).sort(), ["a", "b"]);
  assert.equal(new TextDecoder().decode(await os.getBlob("a")), "replaced");
  await os.delete("b");
  assert.deepEqual((await os.list()).map((e) => e.name), ["a"]);
  assert.equal(await os.get("b"), null);
});

test("links, metadata update, watch, status and seal", async () => {
  const os = await session.js.views.os("linked");
  const watcher = await os.watch({ includeHistory: false });
  const seen = [];
  const watching = (async () => {
    for await (const entry of watcher) {
      if (entry === null) continue;
      seen.push(entry.name);
      if (seen.length === 2) break;
    }
  })();
  await os.putBlob({ name: "target" }, new TextEncoder().encode("payload"));
  const target = await os.info("target");
  await os.link("alias", target);
  await watching;
  watcher.stop();
  assert.deepEqual(seen, ["target", "alias"]);
  assert.equal(new TextDecoder().decode(await os.getBlob("alias")), "payload");
  await os.update("target", { name: "renamed", description: "moved" });
  assert.equal((await os.info("renamed")).description, "moved");
  const status = await os.status();
  assert.equal(status.bucket, "linked");
  assert.equal(status.sealed, false);
  await os.seal();
  assert.equal((await os.status()).sealed, true);
  await assert.rejects(os.putBlob({ name: "late" }, new TextEncoder().encode("x")));
});
