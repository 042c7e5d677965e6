#!/usr/bin/env python3
"""How long creating and deleting a stream takes, one request at a time.

Against a running server (Ringtail or nats-server, started with JetStream): creates --count
streams S0, S1, ... (subjects s<i>.>, --storage file or memory), each request waiting for its
answer, then deletes them. Prints the latency percentiles of each, and with --pid the server's
CPU time per create (utime+stime from /proc).

    bench/stream_create.py --port 4222 --pid $(pidof ringtail) --count 300
"""
import argparse
import time

from many_consumers import Conn, cpu_ms


def percentiles(times):
    times = sorted(times)
    n = len(times)
    return f"p50 {times[n // 2] * 1e3:.2f} ms, p90 {times[n * 9 // 10] * 1e3:.2f} ms, max {times[-1] * 1e3:.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4222)
    parser.add_argument("--pid", type=int, help="the server's process id, for its CPU time")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--storage", choices=["file", "memory"], default="file")
    args = parser.parse_args()

    conn = Conn(args.port)
    cpu_before = cpu_ms(args.pid) if args.pid else 0
    created = []
    for i in range(args.count):
        started = time.perf_counter()
        conn.request(f"$JS.API.STREAM.CREATE.S{i}", {"name": f"S{i}", "subjects": [f"s{i}.>"], "storage": args.storage})
        created.append(time.perf_counter() - started)
    cpu = cpu_ms(args.pid) - cpu_before if args.pid else 0
    deleted = []
    for i in range(args.count):
        started = time.perf_counter()
        conn.request(f"$JS.API.STREAM.DELETE.S{i}", {})
        deleted.append(time.perf_counter() - started)
    print(f"create ({args.storage}): {percentiles(created)}, total {sum(created):.2f} s" +
          (f", server CPU {cpu / args.count:.2f} ms per create" if args.pid else ""))
    print(f"delete: {percentiles(deleted)}, total {sum(deleted):.2f} s")


if __name__ == "__main__":
    main()
