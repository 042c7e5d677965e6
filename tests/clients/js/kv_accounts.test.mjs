// KV per account through nats.js: two accounts with JetStream each have their own bucket of
// the same name, a watcher sees only its own account's updates, and an account without
// JetStream is told so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, StringCodec } from "nats";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "./server.mjs";

const sc = StringCodec();
const dir = mkdtempSync(join(tmpdir(), "ringtail-js-conf-"));
const config = join(dir, "accounts.conf");
writeFileSync(config, `
accounts {
  A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  B: { jetstream: enabled, users: [ { user: b, password: b } ] }
  C: { users: [ { user: c, password: c } ] }
}
`);

let server;
const connections = {};
before(async () => {
  server = await startServer(["-c", config]);
  for (const user of ["a", "b", "c"]) {
    connections[user] = await connect({ servers: server.url, user, pass: user });
  }
});
after(async () => {
  for (const nc of Object.values(connections)) await nc.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("each account has its own bucket of the same name", async () => {
  const kvA = await connections.a.jetstream().views.kv("settings");
  const kvB = await connections.b.jetstream().views.kv("settings");
  await kvA.put("color", sc.encode("red"));
  await kvB.put("color", sc.encode("blue"));
  await kvB.put("size", sc.encode("large"));
  assert.equal(sc.decode((await kvA.get("color")).value), "red");
  assert.equal(sc.decode((await kvB.get("color")).value), "blue");
  assert.equal(await kvA.get("size"), null);
  assert.equal((await kvA.status()).values, 1);
  assert.equal((await kvB.status()).values, 2);
});

test("a watcher sees its own account's updates only", async () => {
  const kvA = await connections.a.jetstream().views.kv("watched");
  const kvB = await connections.b.jetstream().views.kv("watched");
  const watcher = await kvA.watch({ key: "k" });
  const seen = [];
  const done = (async () => {
    for await (const entry of watcher) {
      if (entry.value.length > 0) seen.push(sc.decode(entry.value));
      if (seen.length === 2) break;
    }
  })();
  await kvB.put("k", sc.encode("from b"));
  await kvA.put("k", sc.encode("from a 1"));
  await kvB.put("k", sc.encode("from b again"));
  await kvA.put("k", sc.encode("from a 2"));
  await done;
  assert.deepEqual(seen, ["from a 1", "from a 2"]);
});

test("an account without JetStream is told so", async () => {
  const jsm = await connections.c.jetstreamManager().catch((error) => error);
  assert.ok(jsm instanceof Error);
  // nats.js reports the API answer by its code, 503; the answer itself says why.
  assert.equal(jsm.code, "503");
  const answer = JSON.parse(sc.decode((await connections.c.request("$JS.API.INFO")).data));
  assert.equal(answer.error.err_code, 10039);
});
