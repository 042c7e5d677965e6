#!/usr/bin/env python3
"""Does monitoring disturb the message path? Starts a server with -m, then runs ringtail-bench
pubsub ROUNDS times without and with a scraper that fetches /varz, /connz and /metrics (nats-
server has no /metrics: /subsz instead) ten times a second each, alternating, and prints each
run and the medians: delivered rate and the server's CPU time per delivered message.

  tools/bench_scrape.py ringtail    [ROUNDS] [COUNT] [SIZE] [CLIENT]
  tools/bench_scrape.py nats-server [ROUNDS] [COUNT] [SIZE] [CLIENT]

CLIENT is ringtail-bench's --client (ringtail-bench or libnats). Needs a release build.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

PORT = 14777
HTTP_PORT = 18777
BENCH = "build/release/bench/ringtail-bench"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scraper(paths, stop, fetched):
    while not stop.is_set():
        started = time.monotonic()
        for path in paths:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}{path}", timeout=2) as reply:
                    reply.read()
                fetched[0] += 1
            except OSError:
                fetched[1] += 1
        stop.wait(max(0.0, 0.1 - (time.monotonic() - started)))


def run(pid, count, size, client, scrape, paths):
    stop = threading.Event()
    fetched = [0, 0]
    thread = threading.Thread(target=scraper, args=(paths, stop, fetched)) if scrape else None
    if thread:
        thread.start()
    cpu_before = cpu_seconds(pid)
    out = subprocess.run([BENCH, "pubsub", "--url", f"nats://127.0.0.1:{PORT}", "--count", str(count),
                          "--size", str(size), "--client", client, "--json", "--no-progress"],
                         capture_output=True, text=True, check=False)
    cpu = cpu_seconds(pid) - cpu_before
    if thread:
        stop.set()
        thread.join()
    result = json.loads(out.stdout.strip().splitlines()[-1])
    received = result.get("received", 0)
    rate = received / result["elapsed_s"] if result.get("elapsed_s") else 0
    return {"rate": rate, "cpu_ns_per_msg": 1e9 * cpu / received if received else 0,
            "status": result.get("status"), "fetched": fetched[0], "fetch_errors": fetched[1]}


def main():
    server = sys.argv[1] if len(sys.argv) > 1 else "ringtail"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 2_000_000
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    client = sys.argv[5] if len(sys.argv) > 5 else "ringtail-bench"
    binary = "build/release/core/ringtail" if server == "ringtail" else "nats-server"
    args = [binary, "-a", "127.0.0.1", "-p", str(PORT), "-m", str(HTTP_PORT)]
    if server == "ringtail":
        args += ["--shards", "2"]
    paths = ["/varz", "/connz", "/metrics" if server == "ringtail" else "/subsz"]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(args, stdout=log, stderr=log)
    try:
        time.sleep(1)
        runs = {False: [], True: []}
        for _ in range(rounds):
            for scrape in (False, True):
                one = run(process.pid, count, size, client, scrape, paths)
                runs[scrape].append(one)
                print(f"{'scraped' if scrape else 'quiet  '} rate {one['rate']:>12,.0f} msgs/s  "
                      f"server cpu {one['cpu_ns_per_msg']:7.1f} ns/msg  {one['status']}  "
                      f"fetches {one['fetched']} (errors {one['fetch_errors']})", flush=True)
        for scrape in (False, True):
            rates = [r["rate"] for r in runs[scrape]]
            cpus = [r["cpu_ns_per_msg"] for r in runs[scrape]]
            print(f"median {'scraped' if scrape else 'quiet  '}: {statistics.median(rates):,.0f} msgs/s "
                  f"(min {min(rates):,.0f}, max {max(rates):,.0f}), server cpu "
                  f"{statistics.median(cpus):.1f} ns/msg")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
