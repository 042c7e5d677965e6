#!/usr/bin/env python3
"""Memory for many durable consumers: starts a server on a fresh store directory, creates a
file stream holding MSGS messages, then CONSUMERS durable pull consumers on it (explicit acks),
and prints the server's resident memory (VmRSS) before and after, with the growth per consumer.
Each consumer then gets a batch of DELIVER messages delivered and left unacked, so its pending
state is not empty.

  tools/consumer_memory.py ringtail    [CONSUMERS] [MSGS] [DELIVER]
  tools/consumer_memory.py nats-server [CONSUMERS] [MSGS] [DELIVER]

Speaks the client protocol over one raw connection, so it needs nothing beyond Python.
Ringtail is build/release/core/ringtail (or RINGTAIL=PATH) with --shards 2; nats-server is the
one on PATH; SERVER_LOG=FILE keeps the server's log.
"""
import os
import sys
import time

from raw_nats import fresh_server

PORT = 14999


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    server = sys.argv[1] if len(sys.argv) > 1 else "ringtail"
    consumers = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    msgs = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    deliver = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    with fresh_server(server, PORT, ["--shards", "2"], log=os.environ.get("SERVER_LOG", os.devnull)) as (proc, conn):
        conn.requests([("$JS.API.STREAM.CREATE.MEM", '{"name":"MEM","subjects":["mem.>"]}')])
        payload = "x" * 128
        conn.requests([("mem.a", payload)] * msgs)
        time.sleep(1.0)
        before = rss_kib(proc.pid)
        start = time.time()
        conn.requests([(f"$JS.API.CONSUMER.DURABLE.CREATE.MEM.d{i}",
                        f'{{"stream_name":"MEM","config":{{"durable_name":"d{i}","ack_policy":"explicit",'
                        f'"max_ack_pending":1000}}}}')
                       for i in range(consumers)])
        created = time.time() - start
        time.sleep(2.0)
        after_create = rss_kib(proc.pid)
        if deliver > 0:
            conn.requests([(f"$JS.API.CONSUMER.MSG.NEXT.MEM.d{i}", f'{{"batch":{deliver}}}')
                           for i in range(consumers)], marker=b"MSG mem.a ", per_request=deliver)
            time.sleep(2.0)
        after_deliver = rss_kib(proc.pid)
        print(f"{server}: stream of {msgs} x 128 B; {consumers} durable consumers created in {created:.1f} s")
        print(f"  RSS before consumers   {before / 1024:8.1f} MiB")
        print(f"  RSS after creating     {after_create / 1024:8.1f} MiB  "
              f"(+{(after_create - before) / consumers:.2f} KiB per consumer)")
        print(f"  RSS after {deliver} unacked deliveries each {after_deliver / 1024:8.1f} MiB  "
              f"(+{(after_deliver - before) / consumers:.2f} KiB per consumer)")


if __name__ == "__main__":
    main()
