// A KV watch of many updates through nats.js, timed: UPDATES puts (async, 256 outstanding, over
// KEYS keys) into a fresh bucket while a watcher started before them receives every one; then a
// new watcher replays the current value of every key.
//   node tools/kv_watch_bench.mjs nats://127.0.0.1:4222 [UPDATES] [KEYS] [ROUNDS]
// Needs the npm package "nats" where node can find it (e.g. run from the work directory of
// tests/clients/js/run.sh, or after `npm install nats` beside this file).
import { connect } from "nats";

const url = process.argv[2] ?? "nats://127.0.0.1:4222";
const updates = Number(process.argv[3] ?? 100_000);
const keys = Number(process.argv[4] ?? 10_000);
const rounds = Number(process.argv[5] ?? 3);
const nc = await connect({ servers: url });
const js = nc.jetstream();
const value = new Uint8Array(128);
for (let round = 1; round <= rounds; ++round) {
  const bucket = `bench_watch_${round}`;
  const kv = await js.views.kv(bucket, { history: 1, storage: "file" });
  const watcher = await kv.watch({ key: ">" });
  let seen = 0;
  const done = (async () => {
    for await (const entry of watcher) {
      if (entry.operation === "PUT" && ++seen === updates) break;
    }
  })();
  const began = performance.now();
  const window = [];
  for (let i = 0; i < updates; ++i) {
    window.push(kv.put(`key.${i % keys}`, value));
    if (window.length === 256) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  const put_s = (performance.now() - began) / 1000;
  await done;
  const watch_s = (performance.now() - began) / 1000;
  watcher.stop();
  const replay_began = performance.now();
  const replay = await kv.watch({ key: ">" });
  let replayed = 0;
  for await (const entry of replay) {
    if (entry.operation === "PUT" && ++replayed === Math.min(keys, updates)) break;
  }
  const replay_s = (performance.now() - replay_began) / 1000;
  replay.stop();
  console.log(JSON.stringify({ round, updates, keys, put_per_s: Math.round(updates / put_s),
                               watched_per_s: Math.round(updates / watch_s), watch_s: +watch_s.toFixed(3),
                               replayed, replayed_per_s: Math.round(replayed / replay_s) }));
  await kv.destroy();
}
await nc.close();
