#!/usr/bin/env python3
"""What a stream's many filtered consumers cost each message published to it.

Against a running server (Ringtail or nats-server, started with JetStream): creates a file
stream on many.>, --consumers durable pull consumers, consumer i filtered on --filter with i
put in (many.%d: one key each, as KV watchers of single keys; many.%d.*: a subtree each), then
publishes --count messages with --window PubAcks outstanding, either to a subject no consumer
wants (--match none) or to each consumer's subject in turn (--match one). Prints the rate and
the server's CPU time per message (utime+stime of --pid from /proc).

    bench/many_consumers.py --port 4222 --pid $(pidof ringtail) --consumers 10000 --match one
"""
import argparse
import json
import socket
import time


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.recv(4096)  # INFO
        self.s.sendall(b'CONNECT {"verbose":false}\r\nSUB _R.* 1\r\nPING\r\n')
        self.buf = b""
        self.wait_for(b"PONG\r\n", 1)

    def wait_for(self, marker, count):
        """Reads until `marker` has been seen `count` times; returns what was read."""
        seen = self.buf.count(marker)
        while seen < count:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise SystemExit("connection closed")
            self.buf += chunk
            seen = self.buf.count(marker)
        read, self.buf = self.buf, b""
        return read

    def request(self, subject, body):
        data = json.dumps(body).encode()
        self.s.sendall(b"PUB %s _R.1 %d\r\n%s\r\n" % (subject.encode(), len(data), data))
        answer = self.wait_for(b"MSG _R.", 1)
        if b'"error"' in answer:
            raise SystemExit(f"{subject} refused: {answer.decode(errors='replace')}")

    def publish_all(self, subjects, window):
        """JetStream publishes, `window` PubAcks outstanding; returns how many were refused."""
        sent = answered = refused = 0
        while answered < len(subjects):
            batch = []
            while sent < len(subjects) and sent - answered < window:
                batch.append(b"PUB %s _R.2 1\r\nx\r\n" % subjects[sent].encode())
                sent += 1
            if batch:
                self.s.sendall(b"".join(batch))
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise SystemExit("connection closed")
            chunk = self.buf + chunk
            # Whole answers only; a partial one waits for the next read.
            complete = chunk.rfind(b"}\r\n") + 3
            self.buf = chunk[complete:] if complete > 2 else chunk
            done = chunk[:complete] if complete > 2 else b""
            answered += done.count(b"MSG _R.2")
            refused += done.count(b'"error"')
        return refused


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 10  # utime + stime, USER_HZ 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4222)
    parser.add_argument("--pid", type=int, required=True, help="the server's process id")
    parser.add_argument("--consumers", type=int, default=10000)
    parser.add_argument("--filter", default="many.%d")
    parser.add_argument("--match", choices=["none", "one"], default="one")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--window", type=int, default=1000)
    args = parser.parse_args()

    conn = Conn(args.port)
    conn.request("$JS.API.STREAM.CREATE.MANY", {"name": "MANY", "subjects": ["many.>"], "storage": "file"})
    started = time.perf_counter()
    for i in range(args.consumers):
        conn.request(f"$JS.API.CONSUMER.CREATE.MANY.C{i}",
                     {"stream_name": "MANY",
                      "config": {"durable_name": f"C{i}", "ack_policy": "explicit", "filter_subject": args.filter % i}})
    elapsed = time.perf_counter() - started
    print(f"created {args.consumers} consumers in {elapsed:.2f} s")

    if args.match == "none":
        subjects = ["many.none"] * args.count
    else:
        subjects = [(args.filter % (i % args.consumers)).replace("*", "x").replace(">", "x") for i in range(args.count)]
    before = cpu_ms(args.pid)
    started = time.perf_counter()
    refused = conn.publish_all(subjects, args.window)
    elapsed = time.perf_counter() - started
    used = cpu_ms(args.pid) - before
    print(f"{args.count} publishes, each wanted by {args.match} of {args.consumers} consumers: "
          f"{args.count / elapsed:,.0f} msgs/s, server CPU {used * 1000 / args.count:.1f} us/msg, {refused} refused")


if __name__ == "__main__":
    main()
