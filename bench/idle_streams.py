#!/usr/bin/env python3
"""What idle JetStream streams cost a server that also serves Core NATS.

Against a running server (Ringtail or nats-server, started with JetStream): measures the
round trip of a PING on a fresh connection, creates --streams file streams that then stay
idle, measures the round trip again, and the server's CPU time per second while nothing
happens (utime+stime of --pid from /proc). Prints one line per figure.

    bench/idle_streams.py --port 4222 --pid $(pidof ringtail) --streams 1000
"""
import argparse
import socket
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.recv(4096)  # INFO
    s.sendall(b'CONNECT {"verbose":false}\r\nSUB _R.* 1\r\nPING\r\n')
    read_until(s, b"PONG")
    return s


def read_until(s, marker):
    buf = b""
    while marker not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    return buf


def ping_rtt_us(port, count):
    s = connect(port)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        s.sendall(b"PING\r\n")
        read_until(s, b"PONG")
        times.append((time.perf_counter() - start) * 1e6)
    s.close()
    times.sort()
    return times[len(times) // 2], times[len(times) * 9 // 10]


def create_streams(port, count, window=8):
    s = connect(port)
    answered = 0
    for i in range(count):
        body = b'{"name":"IDLE%d","subjects":["idle.%d.>"]}' % (i, i)
        s.sendall(b"PUB $JS.API.STREAM.CREATE.IDLE%d _R.%d %d\r\n%s\r\n" % (i, i, len(body), body))
        while answered < i + 1 - window or (i == count - 1 and answered < count):
            chunk = s.recv(65536)
            answered += chunk.count(b"MSG _R.")
            if b'"error"' in chunk:
                raise SystemExit("stream create refused: " + chunk.decode(errors="replace"))
    s.close()


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * 1000 / 100  # USER_HZ


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4222)
    parser.add_argument("--pid", type=int, required=True, help="the server's process id")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--pings", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=10)
    args = parser.parse_args()

    p50, p90 = ping_rtt_us(args.port, args.pings)
    print(f"PING round trip, no streams: p50 {p50:.1f} us, p90 {p90:.1f} us")
    started = time.perf_counter()
    create_streams(args.port, args.streams)
    elapsed = time.perf_counter() - started
    print(f"created {args.streams} streams in {elapsed:.2f} s ({elapsed * 1000 / args.streams:.1f} ms each)")
    time.sleep(2)
    p50, p90 = ping_rtt_us(args.port, args.pings)
    print(f"PING round trip, {args.streams} idle streams: p50 {p50:.1f} us, p90 {p90:.1f} us")
    before = cpu_ms(args.pid)
    time.sleep(args.idle_seconds)
    used = cpu_ms(args.pid) - before
    print(f"server CPU while idle: {used / args.idle_seconds:.1f} ms per second")


if __name__ == "__main__":
    main()
