// The object store through nats.js's own API (ADR-20), against the server under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { startServer, useServer } from "./server.mjs";

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

test("a server killed in the middle of a put keeps a whole object, never a torn one", async () => {
  const store = mkdtempSync(join(tmpdir(), "ringtail-js-store-"));
  let server = await startServer([], { store });
  const port = Number(new URL(server.url).port);
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  try {
    const os = await nc.jetstream().views.os("restarts");
    const first = randomBytes(300 * 1024);
    await os.putBlob({ name: "doc" }, first);
    // A second version, fed slowly: the server is killed after the first chunks went out.
    const second = randomBytes(4 * 1024 * 1024);
    let fed = 0;
    let killed;
    const slow = new ReadableStream({
      async pull(controller) {
        if (fed >= second.length) return controller.close();
        const end = Math.min(second.length, fed + 256 * 1024);
        controller.enqueue(second.subarray(fed, end));
        fed = end;
        if (fed >= 1024 * 1024 && !killed) killed = server.stop("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    const putting = os.put({ name: "doc" }, slow).then(() => "done", (err) => `failed: ${err.message}`);
    while (!killed) await new Promise((resolve) => setTimeout(resolve, 10));
    await killed;
    server = await startServer([], { store, port });
    await Promise.race([putting, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    // Whichever version the store holds now, it is whole: its digest matches its bytes.
    const got = await read(await os.get("doc"));
    assert.ok(Buffer.compare(got, first) === 0 || Buffer.compare(got, second) === 0,
              `doc is neither version (${got.length} bytes)`);
    // And the bucket takes new puts.
    const third = randomBytes(600 * 1024);
    await os.put({ name: "doc" }, streamOf(third));
    assert.equal(Buffer.compare(await read(await os.get("doc")), third), 0);
  } finally {
    await nc.close();
    await server.stop();
    rmSync(store, { recursive: true, force: true });
  }
});
