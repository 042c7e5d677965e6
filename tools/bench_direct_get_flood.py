#!/usr/bin/env python3
"""Direct gets while another connection floods the same stream, Ringtail against nats-server.
Each round starts each server afresh (-js on a fresh store directory; Ringtail with --shards
SHARDS), creates file stream S (subjects s.>, allow_direct), stores one message on s.a, then
one connection publishes 512 KiB messages to s.b without replies as fast as the server takes
them for FLOOD seconds while another asks $JS.API.DIRECT.GET.S for the last message on s.a,
one request at a time. Prints how many gets were answered while the flood ran and their
latency: a get should not wait behind the stream's backlog of writes.

  tools/bench_direct_get_flood.py [ROUNDS] [FLOOD] [SHARDS]     (defaults: 3 3 2)

Needs a release build; speaks the client protocol over raw connections (nothing beyond
Python). RINGTAIL=PATH runs another build.
"""
import json
import sys
import threading
import time

from raw_nats import Conn, fresh_server

PORT = 14996
PAYLOAD = b"x" * (512 << 10)


def flood(conn, seconds):
    chunk = (f"PUB s.b {len(PAYLOAD)}\r\n".encode() + PAYLOAD + b"\r\n") * 8
    began = time.time()
    while time.time() - began < seconds:
        conn.sock.sendall(chunk)


def get(conn, request):
    """One direct get; waits for the whole answer (the message, or a status)."""
    conn.buf = b""
    conn.sock.sendall(f"PUB $JS.API.DIRECT.GET.S _INBOX.tool.0 {len(request)}\r\n".encode() + request + b"\r\n")
    while True:
        conn.wait_for(b"\r\n", conn.buf.count(b"\r\n") + 1)
        at = conn.buf.find(b"HMSG _INBOX.tool.")
        if at < 0 or b"\r\n" not in conn.buf[at:]:
            continue
        line = conn.buf[at:conn.buf.index(b"\r\n", at)]
        if len(conn.buf) >= at + len(line) + 2 + int(line.split()[-1]) + 2:
            return


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3
    shards = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    config = json.dumps({"name": "S", "subjects": ["s.>"], "allow_direct": True, "max_bytes": 1 << 30})
    request = json.dumps({"last_by_subj": "s.a"}).encode()
    print(f"gets answered during a {seconds:g} s flood of {len(PAYLOAD) >> 10} KiB publishes; latency in ms")
    for round_ in range(rounds):
        for server in ("ringtail", "nats-server"):
            with fresh_server(server, PORT, ["--shards", str(shards)]) as (_, conn):
                answer = conn.request("$JS.API.STREAM.CREATE.S", config)
                if "error" in answer:
                    raise RuntimeError(answer["error"])
                conn.publish_acked("s.a", "a", 1)
                flooder = Conn(PORT)
                thread = threading.Thread(target=flood, args=(flooder, seconds), daemon=True)
                thread.start()
                time.sleep(0.2)
                latencies = []
                began = time.time()
                while time.time() - began < seconds - 0.5:
                    sent = time.perf_counter()
                    get(conn, request)
                    latencies.append((time.perf_counter() - sent) * 1e3)
                thread.join()
                latencies.sort()
                print(f"round {round_ + 1} {server:12} {len(latencies):7} gets  p50 {latencies[len(latencies) // 2]:6.2f}"
                      f"  p99 {latencies[len(latencies) * 99 // 100]:6.2f}  max {latencies[-1]:6.2f}", flush=True)


if __name__ == "__main__":
    main()
