#!/usr/bin/env python3
"""Request-reply through a service import against request-reply within one account, Ringtail
against nats-server. Each run starts the server afresh with a config of two accounts: SVC
exports "bench.>" and APP imports it ("import"), or one account with both users ("same"); then
`ringtail-bench reqrep` sends COUNT requests of 128 bytes from 4 requesters (16 outstanding
each) as APP's user to 2 responders connected as SVC's. Prints per run the requests per second,
the median round trip and the server's CPU time (utime+stime from /proc) per request.

  tools/bench_service_import.py [ROUNDS] [COUNT]     (defaults: 3 200000)

Needs a release build (the server and ringtail-bench). RINGTAIL=PATH runs another build.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PORT = 14996
CONFIGS = {
    "import": """accounts {
  SVC: { users: [ { user: s, password: s } ], exports: [ { service: "bench.>" } ] }
  APP: { users: [ { user: a, password: a } ], imports: [ { service: { account: SVC, subject: "bench.>" } } ] }
}
""",
    "same": """accounts {
  SVC: { users: [ { user: s, password: s }, { user: a, password: a } ] }
}
""",
}


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(server, layout, count, workdir):
    config = os.path.join(workdir, layout + ".conf")
    with open(config, "w") as out:
        out.write(CONFIGS[layout])
    if server == "ringtail":
        cmd = [os.environ.get("RINGTAIL", os.path.join(ROOT, "build/release/core/ringtail")), "--shards", "2"]
    else:
        cmd = [shutil.which("nats-server") or "nats-server"]
    proc = subprocess.Popen(cmd + ["-a", "127.0.0.1", "-p", str(PORT), "-c", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        cpu = cpu_seconds(proc.pid)
        bench = [os.path.join(ROOT, "build/release/bench/ringtail-bench"), "reqrep",
                 "--url", f"nats://a:a@127.0.0.1:{PORT}", "--responder-url", f"nats://s:s@127.0.0.1:{PORT}",
                 "--pubs", "4", "--subs", "2", "--window", "16", "--size", "128", "--count", str(count),
                 "--duration", "60", "--json", "--no-progress"]
        result = json.loads(subprocess.run(bench, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        cpu = cpu_seconds(proc.pid) - cpu
    finally:
        proc.terminate()
        proc.wait()
    if result.get("status") != "ok":
        raise RuntimeError(f"{server} {layout}: {result.get('message')}")
    rate = next(r for r in result["rates"] if r.get("headline"))["msgs_per_s"]
    return rate, result["latency_us"][0]["p50"], cpu * 1e6 / result["received"]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    with tempfile.TemporaryDirectory() as workdir:
        print("round  server       layout  requests/s  p50 us  server CPU us/request")
        for round_ in range(1, rounds + 1):
            for server in ("ringtail", "nats-server"):
                for layout in ("same", "import"):
                    rate, p50, cpu = run(server, layout, count, workdir)
                    print(f"{round_:5}  {server:11}  {layout:6}  {rate:10.0f}  {p50:6.0f}  {cpu:6.2f}")


if __name__ == "__main__":
    main()
