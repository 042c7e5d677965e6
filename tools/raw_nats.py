"""A raw client-protocol connection for the tools here: enough to send requests and
publishes and wait for their answers, with nothing beyond Python."""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

INBOX = "_INBOX.tool"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def start_server(server, port, store, ringtail_args=(), log=os.devnull):
    """Starts "ringtail" (this tree's release build, or RINGTAIL=PATH; with `ringtail_args`)
    or "nats-server" on `port` with JetStream on `store`, its log to the file `log`, and
    connects: (process, Conn)."""
    if server == "ringtail":
        cmd = [os.environ.get("RINGTAIL", os.path.join(ROOT, "build/release/core/ringtail")), *ringtail_args]
    else:
        cmd = [shutil.which("nats-server") or "nats-server"]
    cmd += ["-p", str(port), "-js", "-sd", store]
    with open(log, "w") as log_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log_file)
    for _ in range(500):
        try:
            return proc, Conn(port)
        except OSError:
            time.sleep(0.01)
    proc.terminate()
    raise RuntimeError(f"{server} never accepted a connection")


@contextlib.contextmanager
def fresh_server(server, port, ringtail_args=(), log=os.devnull):
    """start_server() on a new store directory; stops the server and removes the directory
    when the block ends, however it ends."""
    store = tempfile.mkdtemp(prefix=f"rt-tool-{server}-")
    try:
        proc, conn = start_server(server, port, store, ringtail_args, log)
        try:
            yield proc, conn
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(store, ignore_errors=True)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        self.sock.sendall(b'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n'
                          + f"SUB {INBOX}.* 1\r\nPING\r\n".encode())
        self.wait_for(b"PONG\r\n")
        self.buf = b""

    def wait_for(self, marker, count=1):
        while self.buf.count(marker) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("server closed the connection")
            self.buf += chunk
            if b"PING\r\n" in chunk:  # a long run must answer the server's keepalive
                self.sock.sendall(b"PONG\r\n")

    def requests(self, items, marker=f"MSG {INBOX}.".encode(), per_request=1, window=256):
        """Sends (subject, body) requests in windows and waits for `per_request` messages
        containing `marker` for each; fails on a JetStream error."""
        for start in range(0, len(items), window):
            batch = items[start:start + window]
            out = []
            for i, (subject, body) in enumerate(batch):
                data = body.encode()
                out.append(f"PUB {subject} {INBOX}.{i} {len(data)}\r\n".encode() + data + b"\r\n")
            self.buf = b""
            self.sock.sendall(b"".join(out))
            self.wait_for(marker, len(batch) * per_request)
            if b'"error"' in self.buf:
                raise RuntimeError(self.buf[:400].decode(errors="replace"))
            self.buf = b""

    def request(self, subject, body=""):
        """One request; its reply parsed as JSON."""
        data = body.encode()
        self.buf = b""
        self.sock.sendall(f"PUB {subject} {INBOX}.0 {len(data)}\r\n".encode() + data + b"\r\n")
        self.wait_for(f"MSG {INBOX}.".encode())
        start = self.buf.index(f"MSG {INBOX}.".encode())
        header, _, rest = self.buf[start:].partition(b"\r\n")
        size = int(header.split()[-1])
        while len(rest) < size:
            rest += self.sock.recv(1 << 20)
        return json.loads(rest[:size])

    def publish_acked(self, subject, payload, count, window=1000):
        """`count` publishes of `payload`, `window` at a time, each acknowledged."""
        self.requests([(subject, payload)] * count, window=window)
