#!/usr/bin/env python3
"""How fast a new mirror and a new sourcing stream copy an existing stream, Ringtail against
nats-server. Each round starts each server afresh (-js on a fresh store directory; Ringtail with
--shards 2), fills stream ORIGIN with COUNT messages of PAYLOAD bytes (windows of 1000
acknowledged publishes), then creates the mirror COPY and times it until it holds every
message; then the same for AGG, a stream with ORIGIN as its one source. Prints per copy the
rate and the server's CPU time (utime+stime from /proc) per message copied.

  tools/bench_mirror.py [ROUNDS] [COUNT] [PAYLOAD]     (defaults: 3 200000 128)

Needs a release build; speaks the client protocol over a raw connection (nothing beyond
Python). RINGTAIL=PATH runs another build.
"""
import os
import sys
import time

from raw_nats import fresh_server

PORT = 14997


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy(conn, pid, name, config, count):
    """Creates stream `name` with `config` and waits until it holds `count` messages."""
    cpu = cpu_seconds(pid)
    began = time.time()
    answer = conn.request(f"$JS.API.STREAM.CREATE.{name}", config)
    if "error" in answer:
        raise RuntimeError(f"{name}: {answer['error']}")
    while True:
        info = conn.request(f"$JS.API.STREAM.INFO.{name}")
        if info["state"]["messages"] >= count:
            break
        if time.time() - began > 600:
            raise RuntimeError(f"{name}: {info['state']['messages']} of {count} after 600 s")
        time.sleep(0.005)
    return time.time() - began, cpu_seconds(pid) - cpu


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    payload = "x" * (int(sys.argv[3]) if len(sys.argv) > 3 else 128)
    print(f"{count} messages of {len(payload)} B; rate in messages/s, server CPU in us per message copied")
    for round_ in range(rounds):
        for server in ("ringtail", "nats-server"):
            with fresh_server(server, PORT, ["--shards", "2"]) as (proc, conn):
                conn.request("$JS.API.STREAM.CREATE.ORIGIN", '{"name":"ORIGIN","subjects":["o.>"]}')
                conn.publish_acked("o.x", payload, count)
                for name, config in (("COPY", '{"name":"COPY","mirror":{"name":"ORIGIN"}}'),
                                     ("AGG", '{"name":"AGG","sources":[{"name":"ORIGIN"}]}')):
                    seconds, cpu = copy(conn, proc.pid, name, config, count)
                    kind = "mirror" if name == "COPY" else "source"
                    print(f"round {round_ + 1} {server:12} {kind:7} {count / seconds:10,.0f} msgs/s "
                          f"{cpu * 1e6 / count:6.2f} us/msg", flush=True)


if __name__ == "__main__":
    main()
