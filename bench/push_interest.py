#!/usr/bin/env python3
"""What many push consumers cost a server while idle, and for each subscription made elsewhere.

Against a running server (Ringtail or nats-server, started with JetStream): creates a file
stream on push.>, --consumers durable push consumers (consumer i delivers to deliver.i, filtered
on push.i) and one connection subscribed to every deliver subject, so each consumer is bound.
Then measures the server's CPU (utime+stime of --pid from /proc) over --idle seconds of
nothing, and over --churn round trips of another connection subscribing to an inbox of its
own and unsubscribing it (as a request with a fresh inbox does), none of which any consumer
delivers to.

    bench/push_interest.py --port 4222 --pid $(pidof ringtail) --consumers 10000
"""
import argparse
import time

from many_consumers import Conn, cpu_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4222)
    parser.add_argument("--pid", type=int, required=True, help="the server's process id")
    parser.add_argument("--consumers", type=int, default=10000)
    parser.add_argument("--idle", type=float, default=10, help="seconds of nothing measured")
    parser.add_argument("--churn", type=int, default=5000, help="subscribe/unsubscribe round trips")
    args = parser.parse_args()

    conn = Conn(args.port)
    conn.request("$JS.API.STREAM.CREATE.PUSH", {"name": "PUSH", "subjects": ["push.>"], "storage": "file"})
    subs = b"".join(b"SUB deliver.%d %d\r\n" % (i, 100 + i) for i in range(args.consumers))
    conn.s.sendall(subs + b"PING\r\n")
    conn.wait_for(b"PONG\r\n", 1)
    for i in range(args.consumers):
        conn.request(f"$JS.API.CONSUMER.DURABLE.CREATE.PUSH.C{i}",
                     {"stream_name": "PUSH", "config": {"durable_name": f"C{i}", "deliver_subject": f"deliver.{i}",
                                                        "filter_subject": f"push.{i}", "ack_policy": "explicit"}})
    time.sleep(1)

    before, began = cpu_ms(args.pid), time.monotonic()
    time.sleep(args.idle)
    idle = (cpu_ms(args.pid) - before) / (time.monotonic() - began)

    other = Conn(args.port)
    before, began = cpu_ms(args.pid), time.monotonic()
    for i in range(args.churn):
        other.s.sendall(b"SUB _INBOX.churn.%d 1\r\nUNSUB 1\r\nPING\r\n" % i)
        other.wait_for(b"PONG\r\n", 1)
    took = time.monotonic() - began
    churn_us = (cpu_ms(args.pid) - before) * 1000 / args.churn
    print(f"{args.consumers} push consumers: idle server CPU {idle:.1f} ms/s; "
          f"subscribe+unsubscribe round trips {args.churn / took:,.0f}/s, server CPU {churn_us:.1f} us each")


if __name__ == "__main__":
    main()
