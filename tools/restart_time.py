#!/usr/bin/env python3
"""Restart time against stream data: a server is started on a store directory holding one file
stream of about GIB GiB (records of PAYLOAD bytes), and timed from its start until the stream
answers STREAM.INFO with every message (the server is then serving it).

  tools/restart_time.py ringtail    [GIB] [PAYLOAD] [--cold]
  tools/restart_time.py nats-server [GIB] [PAYLOAD] [--cold]

Ringtail's stream is filled fast, offline: the server creates the stream, stops, and
ringtail-store-bench (RT_KEEP=1) writes the segments in its place, the same format a running
server writes. nats-server's is filled through the client protocol (windows of 1000
publishes, each acknowledged), which takes minutes per GiB. The server is started three times:
first on the files as filled (Ringtail scans every segment, and writes their indexes), then
after that start's clean stop (Ringtail reads the sealed segments' indexes), then once more
with a warm page cache. With --cold the page cache is dropped before the first two (needs
root), as after a reboot. RINGTAIL=PATH runs another
build of the server (the fill still uses this tree's ringtail-store-bench). Speaks the client protocol over
a raw connection, so it needs nothing beyond Python.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

from raw_nats import Conn

PORT = 14998
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def start(server, store):
    if server == "ringtail":
        cmd = [os.environ.get("RINGTAIL", os.path.join(ROOT, "build/release/core/ringtail"))]
    else:
        cmd = [shutil.which("nats-server") or "nats-server"]
    cmd += ["-p", str(PORT), "-js", "-sd", store]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def connect(deadline_s=600):
    began = time.time()
    while time.time() - began < deadline_s:
        try:
            return Conn(PORT)
        except OSError:
            time.sleep(0.005)
    raise RuntimeError("the server never accepted a connection")


def stop(proc):
    proc.terminate()
    proc.wait()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    cold = "--cold" in sys.argv
    server = args[0] if args else "ringtail"
    gib = float(args[1]) if len(args) > 1 else 1.0
    payload = int(args[2]) if len(args) > 2 else 128
    store = tempfile.mkdtemp(prefix="restart-time-", dir=os.environ.get("TMPDIR", "/var/tmp"))
    try:
        proc = start(server, store)
        conn = connect()
        reply = conn.request("$JS.API.STREAM.CREATE.RESTART", '{"name":"RESTART","subjects":["bench.>"]}')
        if "error" in reply:
            raise RuntimeError(reply)
        payload_mib = int(gib * 1024)
        if server == "ringtail":
            stop(proc)
            msgs_dir = glob.glob(os.path.join(store, "jetstream", "*", "streams", "RESTART", "msgs"))[0]
            shutil.rmtree(msgs_dir)
            env = dict(os.environ, RT_KEEP="1", RT_SEGMENT_MIB="64")
            subprocess.run([os.path.join(ROOT, "build/release/bench/store/ringtail-store-bench"), msgs_dir,
                            str(payload), str(payload_mib)], env=env, check=True, stdout=subprocess.DEVNULL)
        else:
            conn.publish_acked("bench.store", "p" * payload, (payload_mib << 20) // payload)
            stop(proc)
        expected = (payload_mib << 20) // payload
        stored = sum(os.path.getsize(f) for f in glob.glob(os.path.join(store, "jetstream", "**", "*"),
                                                           recursive=True) if os.path.isfile(f))
        subprocess.run(["sync"], check=True)
        gib_stored = stored / (1 << 30)
        for label in ("first", "again", "warm"):
            if cold and label != "warm":
                with open("/proc/sys/vm/drop_caches", "w") as caches:
                    caches.write("3\n")
            began = time.time()
            proc = start(server, store)
            while True:
                conn = connect()
                reply = conn.request("$JS.API.STREAM.INFO.RESTART")
                if reply.get("state", {}).get("messages") == expected:
                    break
                time.sleep(0.005)
            took = time.time() - began
            with open(f"/proc/{proc.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            stop(proc)
            if cold and label != "warm":
                label += ", cold"
            print(f"{server}: {expected} messages of {payload} B, {gib_stored:.2f} GiB on disk, {label} restart: "
                  f"serving after {took:.2f} s ({took / gib_stored:.2f} s/GiB), server CPU {cpu:.2f} s")
    finally:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
