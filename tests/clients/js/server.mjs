// Starts the server under test (RINGTAIL_BIN, or nats-server with RT_TEST_SERVER=nats-server)
// on a random loopback port with JetStream on a fresh store directory, as the C++ integration
// tests do, and stops it.
import { spawn } from "node:child_process";
import { before, after } from "node:test";
import { connect } from "nats";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// With `store` and `port`, the server uses that store directory (kept at stop) and port: a
// restart of an earlier one.
export async function startServer(extraArgs = [], { store, port } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ringtail-js-"));
  const natsServer = process.env.RT_TEST_SERVER === "nats-server";
  const binary = natsServer ? "nats-server" : process.env.RINGTAIL_BIN;
  if (!binary) throw new Error("RINGTAIL_BIN is not set");
  const args = [...(natsServer ? [] : ["--shards", "2"]), "-a", "127.0.0.1", "-p", String(port ?? -1),
                "--ports_file_dir", dir, "-js", "-sd", store ?? join(dir, "store"), ...extraArgs];
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (chunk) => { log += chunk; });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ports = readdirSync(dir).find((name) => name.endsWith(".ports"));
    if (ports) {
      const text = readFileSync(join(dir, ports), "utf8");
      if (text.trim().length > 0) {
        const url = JSON.parse(text).nats[0];
        return {
          url,
          log: () => log,
          async stop(signal = "SIGTERM") {
            child.kill(signal);
            await new Promise((resolve) => child.exitCode !== null || child.signalCode !== null ? resolve() : child.on("exit", resolve));
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill("SIGKILL");
  throw new Error(`the server did not start: ${log}`);
}

// For a test file: one server and one connection for all its tests. Returns an object whose
// `js` (the JetStream context) is set once the server is up.
export function useServer() {
  const session = {};
  before(async () => {
    session.server = await startServer();
    session.nc = await connect({ servers: session.server.url });
    session.js = session.nc.jetstream();
  });
  after(async () => {
    await session.nc?.close();
    await session.server?.stop();
  });
  return session;
}
