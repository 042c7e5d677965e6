#!/usr/bin/env python3
"""Many subscribers, one publisher: N raw connections subscribe to one subject, one publishes
M messages of 128 B (in bursts of 50), and every subscriber reads all of them. Prints the
time, the server's peak resident memory (VmHWM) and its CPU time (utime+stime). What it
shows is what the server's output costs when thousands of connections each have a little to
send (small M), or a backlog (large M, the subscribers being one Python process).

  tools/bench_many_subscribers.py ringtail|nats-server|PATH N M [ROUNDS]

`ringtail` is build/release/core/ringtail with --shards 2; any other path is run as is."""
import os
import resource
import selectors
import socket
import subprocess
import sys
import time

PORT = 14811


def run(binary, n, m):
    args = [binary, "-p", str(PORT)] + (["--shards", "2"] if "ringtail" in os.path.basename(binary) else [])
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        subs = []
        for _ in range(n):
            sub = socket.create_connection(("127.0.0.1", PORT))
            sub.recv(4096)
            sub.sendall(b'CONNECT {"verbose":false}\r\nSUB x 1\r\nPING\r\n')
            subs.append(sub)
        for sub in subs:
            seen = b""
            while b"PONG" not in seen:
                seen += sub.recv(4096)
            sub.setblocking(False)
        pub = socket.create_connection(("127.0.0.1", PORT))
        pub.recv(4096)
        pub.sendall(b'CONNECT {"verbose":false}\r\n')
        burst = (b"PUB x 128\r\n" + b"y" * 128 + b"\r\n") * 50
        need = m * len(b"MSG x 1 128\r\n" + b"y" * 128 + b"\r\n")
        got = {sub: 0 for sub in subs}
        selector = selectors.DefaultSelector()
        for sub in subs:
            selector.register(sub, selectors.EVENT_READ)
        sent = 0
        start = time.time()
        while selector.get_map() and time.time() - start < 120:
            if sent < m:
                pub.sendall(burst)
                sent += 50
            for key, _ in selector.select(timeout=0.01):
                try:
                    got[key.fileobj] += len(key.fileobj.recv(1 << 16))
                except BlockingIOError:
                    continue
                if got[key.fileobj] >= need:
                    selector.unregister(key.fileobj)
        elapsed = time.time() - start
        with open(f"/proc/{server.pid}/status") as status:
            hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
        with open(f"/proc/{server.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        complete = "" if not selector.get_map() else " (timed out)"
        print(f"{os.path.basename(binary)}: {n} subscribers, {m} messages: {elapsed:.2f} s, "
              f"peak RSS {hwm / 1024:.1f} MiB, server CPU {cpu:.2f} s{complete}", flush=True)
    finally:
        server.terminate()
        server.wait()


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary = sys.argv[1]
    if binary == "ringtail":
        binary = os.path.join(os.path.dirname(__file__), "..", "build", "release", "core", "ringtail")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 1):
        run(binary, int(sys.argv[2]), int(sys.argv[3]))


if __name__ == "__main__":
    main()
