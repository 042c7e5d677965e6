// Object store put and get of one large object through nats.js, timed.
//   node tools/object_store_bench.mjs nats://127.0.0.1:4222 [MIB] [ROUNDS]
// Needs the npm package "nats" where node can find it (e.g. run from the work directory of
// tests/clients/js/run.sh, or after `npm install nats` beside this file).
import { connect } from "nats";
import { randomBytes } from "node:crypto";

const url = process.argv[2] ?? "nats://127.0.0.1:4222";
const mib = Number(process.argv[3] ?? 100);
const rounds = Number(process.argv[4] ?? 3);
const nc = await connect({ servers: url });
const js = nc.jetstream();
const os = await js.views.os("bench_objects", { storage: "file" });
const data = randomBytes(mib * 1024 * 1024);
for (let round = 1; round <= rounds; ++round) {
  const name = `object-${round}`;
  let began = performance.now();
  await os.put({ name }, new ReadableStream({ start(c) { c.enqueue(data); c.close(); } }));
  const put_s = (performance.now() - began) / 1000;
  began = performance.now();
  const result = await os.get(name);
  let bytes = 0;
  for await (const chunk of result.data) bytes += chunk.length;
  if (await result.error) throw await result.error;
  const get_s = (performance.now() - began) / 1000;
  if (bytes !== data.length) throw new Error(`got ${bytes} bytes of ${data.length}`);
  console.log(JSON.stringify({ round, mib, put_s: +put_s.toFixed(3), put_mib_per_s: +(mib / put_s).toFixed(1),
                               get_s: +get_s.toFixed(3), get_mib_per_s: +(mib / get_s).toFixed(1) }));
  await os.delete(name);
}
await nc.close();
