#!/usr/bin/env python3
"""End-to-end overhead of the agent on the workload it watches (issue 5), written to BENCHMARKS.md.

Two network-namespace pods on a bridge (a Kubernetes node as the socket filter sees it): nginx with one worker in
the server pod, wrk in the client pod. Each scenario (response size x client mode) runs in these states, interleaved
and in alternating order in every repetition because these machines drift:

  none  - no agent;
  idle  - the agent's socket filter attached to the pods' veths, user space only consuming the ring buffer
          (`Kubebpf.Benchmarks capture-only`): the kernel-side cost;
  full  - the published agent: capture, HTTP parser, R.E.D., call log, InfluxDB sink to a local influxd;
  redonly - the same without the call log (in 20B/ka50 only): the call log's share of the loss;
  before - with --before-agent, in every scenario: an older published agent (the HTTP-only one, before the capture
          platform) with its own configuration, to compare the platform with it in the same run;
  prometheus - with --states: the full agent plus the Prometheus sink counting every exchange (its cost is the
          difference to `full`);
  idle-tc, full-tc - with --states: `idle` and `full` with the capture attached as tc clsact filters (Attach: tc)
          instead of socket filters.

Figures per scenario: throughput (wrk) and its loss against `none` in the same repetition, p99 latency added, the
agent's CPU seconds per million requests (utime+stime from /proc/<pid>/stat over the measured run plus a settle
period, divided by the requests nginx served in it), its peak RSS (VmHWM), completeness (requests in the agent's own
R.E.D. output in InfluxDB / requests nginx served while the agent ran, per direction), and every loss counter of
the agent's self-metrics; with `before`, the same figures of both agents compared run by run. Run as root;
`./build.sh --target=Benchmark` builds, publishes and runs it (`--before=<git ref>` also builds the older agent).
"""

import argparse
import datetime
import json
import operator
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ARTIFACTS = os.path.abspath(os.environ.get("KUBEBPF_ARTIFACTS") or os.path.join(ROOT, "artifacts"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SIZES = {"20B": 20, "1KB": 1024, "16KB": 16384}
# name -> (connections, extra wrk arguments); "rate" is paced to --rate by wrk's delay() hook.
CLIENTS = {"ka50": (50, []), "ka1000": (1000, []), "close": (50, ["-H", "Connection: close"])}
PRIMARY_SCENARIO = "20B/ka50"
DEFAULT_SCENARIOS = ["20B/ka50", "20B/ka1000", "20B/close", "1KB/ka50", "16KB/ka50"]
FULL_SCENARIOS = [f"{s}/{c}" for s in SIZES for c in CLIENTS]
STATES = ["none", "idle", "full"]
# The full agent without the call log (R.E.D. only), to split its cost: by default in the primary scenario only.
# The older agent given by --before-agent, in every scenario.
OPTIONAL_STATES = ["redonly", "before", "prometheus", "idle-tc", "full-tc"]
AGENT_STATES = ("full", "redonly", "before", "prometheus", "full-tc")
# States whose capture is attached as tc filters rather than socket filters.
TC_STATES = ("idle-tc", "full-tc")
RATE_PACE_MS = 10
MAX_RATE_CONNECTIONS = 2000
# Self-metrics that count something lost or refused; anything else (packets, exchanges, gauges) is informational.
# `partial` is the HTTP-only agent's name (Http.partial_segments) for what the capture now calls `truncated`.
LOSS_PATTERN = re.compile(r"drop|full|overflow|fail|error|desync|unmatched|unanswered|evicted|rejected|invalid|oversized|collapsed|truncated|partial|unsupported|late_classified")
# The capture programs' names: the socket filter now and in the HTTP-only agent, the tc filters.
CAPTURE_PROGRAMS = ("packet_capture", "http_capture", "capture_ingress", "capture_egress")


def log(message):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def run(args, check=True, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {result.returncode}: {result.stderr.strip()}")
    return result


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def capture_programs():
    """run_time_ns and run_cnt of every loaded capture program, by id (counted while kernel.bpf_stats_enabled=1)."""
    out = run(["bpftool", "prog", "show", "-j"], check=False).stdout or "[]"
    return {p["id"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0)) for p in json.loads(out) if p.get("name") in CAPTURE_PROGRAMS}


class MemorySampler(threading.Thread):
    """Peak of the agent's private memory (RssAnon + RssShmem): VmHWM also counts the mapped runtime and plugin files,
    which are shared and reclaimable."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.2):
            try:
                with open(f"/proc/{self.pid}/status") as status:
                    kb = sum(int(line.split()[1]) for line in status if line.startswith(("RssAnon:", "RssShmem:")))
                self.peak_mb = max(self.peak_mb, kb / 1024)
            except OSError:
                return

    def stop(self):
        self.done.set()
        self.join()
        return self.peak_mb


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process, timeout=30):
    """SIGTERM (the agent flushes and exits, as when the kubelet stops it), then SIGKILL after the timeout.

    Not SIGINT: started in the background of a non-interactive shell, this script and its children inherit SIGINT
    ignored, and .NET keeps an ignored SIGINT ignored, so the agent would never stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return False
    return True


class Pods:
    """A bridge and two pods (server, client) with unique names and a free 10.214.x.0/24 subnet."""

    def __init__(self):
        self.prefix = f"kbo{os.getpid() % 4096:03x}"
        used = run(["ip", "-o", "addr"], check=False).stdout + run(["ip", "-all", "netns", "exec", "ip", "-o", "addr"], check=False).stdout
        self.subnet = next(n for n in range(1, 255) if f"10.214.{n}." not in used)
        self.bridge = self.prefix + "br"
        self.server = (self.prefix + "-srv", self.prefix + "h0", f"10.214.{self.subnet}.1")
        self.client = (self.prefix + "-cli", self.prefix + "h1", f"10.214.{self.subnet}.2")
        self.created = []

    @property
    def interface_pattern(self):
        return self.prefix + "h*"

    def up(self):
        run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self.created.append(("link", self.bridge))
        run(["ip", "link", "set", self.bridge, "up"])
        for i, (ns, host_if, ip) in enumerate([self.server, self.client]):
            run(["ip", "netns", "add", ns])
            self.created.append(("netns", ns))
            peer = f"{self.prefix}p{i}"
            run(["ip", "link", "add", host_if, "type", "veth", "peer", "name", peer])
            run(["ip", "link", "set", peer, "netns", ns])
            run(["ip", "link", "set", host_if, "master", self.bridge, "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "link", "set", peer, "name", "eth0"])
            run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            # 1000 connections and Connection: close at full speed need a deep backlog and reusable ports.
            for setting in ["net.core.somaxconn=8192", "net.ipv4.tcp_max_syn_backlog=8192", "net.ipv4.tcp_tw_reuse=1",
                            "net.ipv4.ip_local_port_range=1024 65535"]:
                run(["ip", "netns", "exec", ns, "sysctl", "-qw", setting])

    def down(self):
        for kind, name in reversed(self.created):
            if kind == "netns":
                run(["ip", "netns", "del", name], check=False)
            else:
                run(["ip", "link", "del", name], check=False)
        self.created.clear()


class Nginx:
    """nginx with one worker in the server pod serving /20B, /1KB, /16KB; stub_status on the pod's own loopback."""

    def __init__(self, pods, directory):
        self.pods = pods
        self.directory = directory
        self.status_reads = 0
        os.makedirs(os.path.join(directory, "www"))
        for name, size in SIZES.items():
            with open(os.path.join(directory, "www", name), "wb") as body:
                body.write((b"0123456789abcdef" * (size // 16 + 1))[:size])
        with open(os.path.join(directory, "nginx.conf"), "w") as conf:
            conf.write(f"""daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    default_type application/octet-stream;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen 80 backlog=8192;
        root {directory}/www;
    }}
    server {{
        listen 127.0.0.1:8081;
        location = /status {{ stub_status; }}
    }}
}}
""")
        self.process = None

    def start(self):
        ns = self.pods.server[0]
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", ns, "nginx", "-e", f"{self.directory}/error.log", "-p", self.directory, "-c", f"{self.directory}/nginx.conf"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if run(["ip", "netns", "exec", ns, "curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:8081/status"], check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("nginx did not start: " + open(f"{self.directory}/error.log").read())

    def requests(self):
        """nginx's request counter, not counting the status requests themselves (read over the pod's own loopback,
        which the agent does not observe)."""
        out = run(["ip", "netns", "exec", self.pods.server[0], "curl", "-sf", "http://127.0.0.1:8081/status"]).stdout
        self.status_reads += 1
        return int(out.splitlines()[2].split()[2]) - self.status_reads

    def stop(self):
        if self.process:
            stop_process(self.process, 10)


class InfluxDb:
    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        os.makedirs(directory)
        with open(os.path.join(directory, "influxdb.conf"), "w") as conf:
            conf.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{directory}/meta"
[data]
  dir = "{directory}/data"
  wal-dir = "{directory}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["influxd", "-config", os.path.join(self.directory, "influxdb.conf")],
                                        stdout=open(os.path.join(self.directory, "influxd.log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/ping", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("influxd did not answer /ping")

    def query(self, database, statement):
        url = f"{self.url}/query?db={urllib.parse.quote(database)}&q={urllib.parse.quote(statement)}"
        with urllib.request.urlopen(url, timeout=30) as response:
            result = json.load(response)["results"][0]
        if "error" in result:
            raise RuntimeError(f"InfluxDB: {statement}: {result['error']}")
        rows = []
        for series in result.get("series", []):
            for values in series["values"]:
                rows.append((series.get("tags", {}), dict(zip(series["columns"], values))))
        return rows

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(20)


def parse_wrk(output):
    def duration_ms(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    requests, seconds = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).groups()[:2]
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": int(requests),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p99_ms": duration_ms(p99.group(1)) if p99 else float("nan"),
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.pods = Pods()
        self.nginx = None
        self.influx = None
        self.pace_script = os.path.join(work, "pace.lua")
        self.run_index = 0
        self.rate_connections = {}
        self.bpf_stats = None
        self.kept_logs = False

    def wrk(self, scenario, seconds, state):
        size, client = scenario.split("/")
        url = f"http://{self.pods.server[2]}/{size}"
        if client == "rate":
            # wrk has no rate limit: each connection waits RATE_PACE_MS after every response, so the rate is about
            # connections / (pace + latency), and latency depends on the state and the machine's load. The connections
            # per state start from the pace alone and are rescaled after every run towards --rate (see paced()); the
            # report shows the rate actually reached.
            connections = self.rate_connections.get(state, max(1, round(self.args.rate * RATE_PACE_MS / 1000)))
            extra = ["-s", self.pace_script]
        else:
            connections, extra = CLIENTS[client]
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", *extra, url]
        shell = 'ulimit -n "$(ulimit -Hn)" && exec ' + " ".join(f"'{a}'" for a in command)
        out = run(["ip", "netns", "exec", self.pods.client[0], "sh", "-c", shell], timeout=seconds + 60).stdout
        result = parse_wrk(out)
        if client == "rate":
            self.paced(state, connections, result["rps"])
        return result

    def paced(self, state, connections, rps):
        """Rescales the rate scenario's connections for the next run of this state: one proportional step, bounded."""
        if rps > 0:
            wanted = connections * self.args.rate / rps
            self.rate_connections[state] = int(min(max(wanted, connections / 2, 1), connections * 2, MAX_RATE_CONNECTIONS))

    def agent_config(self, database, state):
        workloads = os.path.join(self.work, "workloads.yaml")
        with open(workloads, "w") as f:
            f.write("workloads:\n")
            for name, (_, host_if, ip) in {"server": self.pods.server, "client": self.pods.client}.items():
                f.write(f"  - {{ namespace: bench, pod: {name}-0, workload: {{ kind: Deployment, name: {name} }}, "
                        f"service: {name}, interfaces: [{host_if}], ips: [{ip}] }}\n")
        interfaces = {"Interfaces": [self.pods.interface_pattern], "PeerSideInterfaces": [self.pods.interface_pattern]}
        # The HTTP-only agent had no Capture plugin: its HTTP probe attached to the interfaces itself.
        attach = {"Attach": "tc"} if state in TC_STATES else {}
        capture = {"Http": interfaces} if state == "before" else {"Capture": {**interfaces, **attach}, "Http": {}}
        return {
            "Agent": {"NodeName": "bench"},
            "Plugins": {
                "StaticMetadata": {"File": workloads},
                **capture,
                "Red": {"CallLog": {"Enabled": state != "redonly"}},
                "InfluxDb": {"Url": self.influx.url, "ApiVersion": 1, "Database": database},
                # The full agent plus the Prometheus sink counting every exchange (its endpoint on a free port, not scraped).
                **({"Prometheus": {"ListenAddress": f"127.0.0.1:{free_port()}"}} if state == "prometheus" else {}),
            },
            "Logging": {"LogLevel": {"Default": "Warning", "Kubebpf": "Information"}},
        }

    def start_observer(self, state, database):
        """Starts an agent (full, redonly, before) or the capture-only loader (idle); returns the process once it observes the pods."""
        log_path = os.path.join(self.work, f"{state}-{self.run_index}.log")
        if state in AGENT_STATES:
            config = os.path.join(self.work, "kubebpf.json")
            with open(config, "w") as f:
                json.dump(self.agent_config(database, state), f, indent=2)
            agent = self.args.before_agent if state == "before" else self.args.agent
            command = [os.path.join(agent, "kubebpf"), "run", "--config", config]
            ready = "HTTP probe attached to" if state == "before" else "Capture attached to"
        else:
            command = ["dotnet", self.args.loader, "capture-only", *(["--attach", "tc"] if state in TC_STATES else []), self.pods.interface_pattern]
            ready = "capture-only attached to"
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(log_path) as f:
                text = f.read()
            if ready in text:
                if self.pods.server[1] not in text or self.pods.client[1] not in text:
                    raise RuntimeError(f"{state}: not attached to both pods' veths:\n{text}")
                return process, log_path
            if process.poll() is not None:
                raise RuntimeError(f"{state} exited with {process.returncode}:\n{text}")
            time.sleep(0.1)
        process.kill()
        raise RuntimeError(f"{state} did not attach within 60 s:\n{open(log_path).read()}")

    def measure(self, scenario, state, rep):
        self.run_index += 1
        database = f"run{self.run_index}"
        served_before = self.nginx.requests()
        process = None
        programs = capture_programs()
        if state != "none":
            process, log_path = self.start_observer(state, database)
            programs = {i: v for i, v in capture_programs().items() if i not in programs}  # the one it loaded
        try:
            # The agent runs for days on a node: its start (JIT) is not what a request costs, so it warms up longer.
            self.wrk(scenario, self.args.agent_warmup if process else self.args.warmup, state)
            window_start = self.nginx.requests()
            cpu0 = cpu_seconds(process.pid) if process else 0.0
            influx0 = cpu_seconds(self.influx.process.pid)
            bpf0 = capture_programs()
            sampler = MemorySampler(process.pid) if process else None
            if sampler:
                sampler.start()
            result = self.wrk(scenario, self.args.duration, state)
            served = self.nginx.requests() - window_start
            result.update(scenario=scenario, state=state, rep=rep, served=served)
            if process:
                bpf1 = capture_programs()
                runs = sum(bpf1[i][1] - bpf0[i][1] for i in programs if i in bpf0 and i in bpf1)
                run_ns = sum(bpf1[i][0] - bpf0[i][0] for i in programs if i in bpf0 and i in bpf1)
                if runs:
                    result["filter_ns_per_run"] = run_ns / runs
                    result["filter_cpu_s_per_million"] = run_ns / 1e9 / served * 1e6
                time.sleep(self.args.settle)  # what the agent does for these requests after wrk ends
                result["cpu_s"] = cpu_seconds(process.pid) - cpu0
                result["cpu_s_per_million"] = result["cpu_s"] / served * 1e6
                result["peak_rss_mb"] = peak_rss_mb(process.pid)
                result["peak_private_mb"] = sampler.stop()
            if state in AGENT_STATES:
                result["influxd_cpu_s_per_million"] = (cpu_seconds(self.influx.process.pid) - influx0) / served * 1e6
        finally:
            if process:
                if not stop_process(process):
                    self.kept_logs = True
                    log(f"{state} did not stop within 30 s of SIGTERM; killed (see {log_path})")
        if state in AGENT_STATES:
            result.update(self.agent_output(database, self.nginx.requests() - served_before))
        return result

    def agent_output(self, database, served):
        """Completeness and self-metrics from what the agent wrote to InfluxDB (not its logs)."""
        red = {tags["direction"]: row["sum"] for tags, row in self.influx.query(
            database, "SELECT sum(\"requests\") FROM \"kubebpf_2d\".\"http_red\" WHERE \"route\" <> '*' GROUP BY \"direction\"")}
        calls = {tags["direction"]: row["count"] for tags, row in self.influx.query(
            database, "SELECT count(\"status\") FROM \"kubebpf_2d\".\"http_requests\" GROUP BY \"direction\"")}
        counters = {}
        for tags, row in self.influx.query(database, "SELECT last(*) FROM \"kubebpf_2d\".\"kubebpf_agent\" GROUP BY \"component\""):
            for column, value in row.items():
                if column.startswith("last_") and value is not None:
                    counters[f"{tags['component']}.{column[5:]}"] = value
        return {
            "served_while_agent_ran": served,
            "red_in": red.get("in", 0), "red_out": red.get("out", 0),
            "calls_in": calls.get("in", 0), "calls_out": calls.get("out", 0),
            "completeness_in": red.get("in", 0) / served, "completeness_out": red.get("out", 0) / served,
            "completeness_call_log": (calls.get("in", 0) + calls.get("out", 0)) / (2 * served),
            "counters": counters,
        }

    def run(self, scenarios):
        self.bpf_stats = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")  # run-time statistics of the socket filter; costs every BPF program two clock reads per run
        with open(self.pace_script, "w") as f:
            f.write(f"function delay()\n  return {RATE_PACE_MS}\nend\n")
        self.pods.up()
        self.nginx = Nginx(self.pods, os.path.join(self.work, "nginx"))
        self.nginx.start()
        self.influx = InfluxDb(os.path.join(self.work, "influxdb"))
        self.influx.start()
        results = []
        plan = [(s, self.states_of(s)) for s in scenarios]
        total = sum(len(states) for _, states in plan) * self.args.reps
        for rep in range(1, self.args.reps + 1):
            for scenario, states in plan:
                # Alternate the order every repetition, so drift does not favour one state.
                for state in (states if rep % 2 else list(reversed(states))):
                    result = self.measure(scenario, state, rep)
                    results.append(result)
                    log(f"{len(results)}/{total} rep {rep} {scenario:11} {state:4}: {result['rps']:9.0f} req/s, p99 {result['p99_ms']:.2f} ms"
                        + (f", {result['cpu_s_per_million']:.2f} CPU-s/M, {result['peak_rss_mb']:.0f} MB" if "cpu_s" in result else "")
                        + (f", completeness in {result['completeness_in']:.5f} out {result['completeness_out']:.5f}" if state in AGENT_STATES else ""))
        return results

    def states_of(self, scenario):
        if scenario.endswith("/rate"):
            states = ["none", "full"]
        elif scenario == PRIMARY_SCENARIO and self.args.states == STATES:
            # The call log's share of the loss: its points go to an influxd on the same two cores.
            states = STATES + ["redonly"]
        else:
            states = list(self.args.states)
        if self.args.before_agent:
            # Next to the full agent, so that the two run as close together as the alternating order allows.
            states.insert(states.index("full") if "full" in states else len(states), "before")
        return states

    def close(self):
        if self.bpf_stats is not None:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(self.bpf_stats)
        for part in (self.nginx, self.influx):
            try:
                if part:
                    part.stop()
            except Exception as error:  # teardown goes on
                log(f"teardown: {error}")
        self.pods.down()


def micro_benchmarks(args, work):
    """The parser and tracker micro-benchmarks (BenchmarkDotNet, short job, in process): their GitHub tables."""
    artifacts = os.path.join(work, "bdn")
    run(["dotnet", args.loader, "--filter", "*HeadParserBenchmarks*", "*TrackerBenchmarks*", "--job", "short", "--inProcess",
         "--artifacts", artifacts, "--exporters", "github"], cwd=work, timeout=1800)
    tables = []
    for name in sorted(os.listdir(os.path.join(artifacts, "results"))):
        if name.endswith("-report-github.md"):
            with open(os.path.join(artifacts, "results", name)) as f:
                table = [line for line in f.read().splitlines() if line.startswith("|")]
            tables.append("\n".join(table))
    return tables


def summary(values):
    values = [v for v in values if v == v]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


# Per run: figures summarised per state; the agent's own figures are only in runs with an agent.
RUN_FIGURES = ("rps", "p99_ms", "cpu_s_per_million", "peak_rss_mb", "peak_private_mb", "filter_ns_per_run", "filter_cpu_s_per_million",
               "influxd_cpu_s_per_million", "completeness_in", "completeness_out", "completeness_call_log")


def analyse(results):
    by_scenario = {}
    for r in results:
        by_scenario.setdefault(r["scenario"], []).append(r)
    analysis = {}
    for scenario, runs in by_scenario.items():
        def of(state, key):
            return {r["rep"]: r[key] for r in runs if r["state"] == state and key in r}

        def paired(x, y, compare):
            """compare(x, y) of two states' figures in the same repetition: drift between repetitions cancels out."""
            return summary([compare(x[i], y[i]) for i in x if i in y])

        a = {"states": {}}
        for state in STATES + OPTIONAL_STATES:
            state_runs = [r for r in runs if r["state"] == state]
            if not state_runs:
                continue
            a["states"][state] = {key: summary([r[key] for r in state_runs if key in r]) for key in RUN_FIGURES}
            if state in AGENT_STATES:
                counters = {}
                for r in state_runs:
                    for name, value in r["counters"].items():
                        if LOSS_PATTERN.search(name.split(".", 1)[1]):
                            counters[name] = counters.get(name, 0) + value
                a["states"][state]["loss_counters"] = counters
        none_rps, none_p99 = of("none", "rps"), of("none", "p99_ms")
        loss = {}
        for state in ["idle", "full"] + OPTIONAL_STATES:
            loss[state] = {i: 100 * (1 - rps / none_rps[i]) for i, rps in of(state, "rps").items() if i in none_rps}
            a[f"loss_{state}"] = summary(list(loss[state].values()))
            a[f"p99_added_{state}"] = paired(of(state, "p99_ms"), none_p99, operator.sub)
        if "full" in a["states"] and "before" in a["states"]:
            a["after_vs_before"] = {
                "throughput_pct": paired(of("full", "rps"), of("before", "rps"), lambda x, y: 100 * (x / y - 1)),
                "loss_pp": paired(loss["full"], loss["before"], operator.sub),
                "p99_ms": paired(of("full", "p99_ms"), of("before", "p99_ms"), operator.sub),
                "cpu_ratio": paired(of("full", "cpu_s_per_million"), of("before", "cpu_s_per_million"), operator.truediv),
                "peak_rss_mb": paired(of("full", "peak_rss_mb"), of("before", "peak_rss_mb"), operator.sub),
            }
        for tc_state, socket_state in zip(TC_STATES, ("idle", "full")):
            if tc_state in a["states"] and socket_state in a["states"]:
                a[f"{tc_state}_vs_{socket_state}"] = {
                    "loss_pp": paired(loss[tc_state], loss[socket_state], operator.sub),
                    "ns_per_run": paired(of(tc_state, "filter_ns_per_run"), of(socket_state, "filter_ns_per_run"), operator.sub),
                    "cpu_ratio": paired(of(tc_state, "cpu_s_per_million"), of(socket_state, "cpu_s_per_million"), operator.truediv),
                }
        a["socket_errors"] = sum(r["socket_errors"] + r["non_2xx"] for r in runs)
        analysis[scenario] = a
    return analysis


def fmt(s, digits=1, suffix=""):
    if not s:
        return "-"
    return f"{s['median']:.{digits}f}{suffix} ({s['min']:.{digits}f} to {s['max']:.{digits}f})"


def machine():
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) / 1024 / 1024

    def first_line(args):
        try:
            result = run(args, check=False)
            return (result.stdout + result.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    commit = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], check=False).stdout.strip()
    return {
        "nproc": os.cpu_count(), "cpu": model, "memory_gib": round(memory, 1), "kernel": os.uname().release,
        "dotnet": first_line(["dotnet", "--version"]), "nginx": first_line(["nginx", "-v"]),
        "wrk": first_line(["wrk", "--version"]).split(" [")[0], "influxd": first_line(["influxd", "version"]),
        "libbpf": first_line(["dpkg-query", "-W", "-f", "${Version}", "libbpf1"]),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def target_rows(analysis):
    primary = analysis.get(PRIMARY_SCENARIO, {})
    rate = next((a for s, a in analysis.items() if s.endswith("/rate")), None)
    cpu = [a["states"]["full"]["cpu_s_per_million"]["median"] for a in analysis.values() if "full" in a["states"]]
    rss = [a["states"]["full"]["peak_rss_mb"]["max"] for a in analysis.values() if "full" in a["states"]]
    private = [a["states"]["full"]["peak_private_mb"]["max"] for a in analysis.values() if (a["states"].get("full") or {}).get("peak_private_mb")]
    rows = []

    def row(name, target, value, ok):
        rows.append(f"| {name} | {target} | {value} | {'yes' if ok else 'no'} |")

    if primary.get("loss_full"):
        row("throughput loss at saturation, 20 B, 50 keep-alive connections (median)", "<= 5%", fmt(primary["loss_full"], 1, "%"), primary["loss_full"]["median"] <= 5)
    if primary.get("loss_redonly"):
        rows.append(f"| the same without the call log (`redonly`, for comparison) | - | {fmt(primary['loss_redonly'], 1, '%')} | - |")
    if cpu:
        row("agent CPU per million requests (worst scenario median)", "<= 2 CPU-s", f"{max(cpu):.2f}", max(cpu) <= 2)
    rate_full = rate and rate["states"].get("full")
    if rate_full and rate_full["completeness_in"]:
        worst = min(rate_full["completeness_in"]["min"], rate_full["completeness_out"]["min"])
        drops = sum(rate_full["loss_counters"].values())
        row(f"completeness at {rate['states']['full']['rps']['median']:.0f} req/s (worst run, both directions)", ">= 99.99%, zero drops",
            f"{100 * worst:.3f}%, loss counters total {drops}", worst >= 0.9999 and drops == 0)
    if rss:
        row("agent peak RSS (worst run)", "<= 80 MB", f"{max(rss):.0f} MB" + (f" (private: {max(private):.0f} MB)" if private else ""), max(rss) <= 80)
    rows += after_vs_before_rows(analysis)
    return rows


def after_vs_before_rows(analysis):
    """The capture platform (full) must not cost more than the HTTP-only agent (before) on HTTP traffic."""
    compared = {s: a for s, a in analysis.items() if a.get("after_vs_before")}
    rows = []

    def row(name, value, ok):
        rows.append(f"| {name} | no more than `before` | {value} | {'yes' if ok else 'no'} |")

    cpu = [(a["after_vs_before"]["cpu_ratio"]["median"], s) for s, a in compared.items() if a["after_vs_before"]["cpu_ratio"]]
    if cpu:
        ratio, scenario = max(cpu)
        states = compared[scenario]["states"]
        row("agent CPU per million requests, after (`full`) / before (`before`), paired per repetition (worst scenario median)",
            f"{ratio:.2f} in {scenario} ({states['full']['cpu_s_per_million']['median']:.2f} vs {states['before']['cpu_s_per_million']['median']:.2f} CPU-s)", ratio <= 1)
    primary = compared.get(PRIMARY_SCENARIO)
    if primary and primary["after_vs_before"]["loss_pp"]:
        difference = primary["after_vs_before"]["loss_pp"]
        row("throughput loss at saturation, 20 B, 50 keep-alive connections, after vs before (median)",
            f"{primary['loss_full']['median']:.1f}% vs {primary['loss_before']['median']:.1f}%, paired difference {fmt(difference, 1, ' pp')}", difference["median"] <= 0)
    rss = [(a["states"]["full"]["peak_rss_mb"]["max"], a["states"]["before"]["peak_rss_mb"]["max"]) for a in compared.values()
           if a["states"]["full"]["peak_rss_mb"] and a["states"]["before"]["peak_rss_mb"]]
    if rss:
        after, before = max(x for x, _ in rss), max(y for _, y in rss)
        row("agent peak RSS, after vs before (worst run)", f"{after:.0f} vs {before:.0f} MB", after <= before)
    return rows


def write_report(path, args, info, analysis, micro, baseline, command, generated):
    # States with an agent, in the order of the cost table; `before` only when the run had it.
    agents = [state for state in ("full", "before") if any(state in a["states"] for a in analysis.values())]
    before = ("**before** (in every scenario: the agent published from " + (f"commit {args.before_commit}" if args.before_commit else "an older commit")
              + ", the HTTP-only agent whose HTTP probe attached to the veths itself, run with its own configuration and the same R.E.D., "
              "call log and sink; next to **full** in the order, and compared with it run by run), ") if "before" in agents else ""
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `tests/Kubebpf.Benchmarks/overhead/overhead.py` from a run on {generated}. Do not edit by hand: run it again.",
        "",
        "Reproduce (as root): `" + command + "`",
        "",
        "## Machine and versions",
        "",
        f"- {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, Linux {info['kernel']}",
        f"- {info['background']} (the machine is shared: other work shows up as noise)",
        f"- kubebpf {info['commit']}; .NET SDK {info['dotnet']}; {info['nginx']}; {info['wrk']}; InfluxDB {info['influxd']}; libbpf {info['libbpf']}",
        "",
        "## Method",
        "",
        "Two network-namespace pods on a bridge; nginx (one worker, sendfile, no access log) in one, wrk (one thread) in the other, "
        "all on the same cores as the agent and InfluxDB. States: **none** (no agent), **idle** (the agent's socket filter on both "
        "pods' veths and a user-space loop that only consumes the ring buffer: the kernel-side cost), **full** (the published agent: "
        f"capture, HTTP parser, R.E.D., call log, static metadata, InfluxDB 1.x sink to a local influxd), {before}and in "
        f"{PRIMARY_SCENARIO} also **redonly** (the same agent without the call log). "
        f"{args.reps} repetitions; in each, every scenario runs every state, in alternating order, {args.duration} s per run after a "
        f"{args.warmup} s warm-up ({args.agent_warmup} s with the agent or the filter attached: a node agent runs for days, so its JIT start-up is not a per-request cost). Loss and added latency are paired within a repetition; figures are median (min to max).",
        "",
        f"- agent CPU: utime+stime of the agent process over the measured run plus {args.settle} s, divided by the requests nginx served in the run;",
        "- peak RSS: the agent's VmHWM; peak private: the largest RssAnon + RssShmem sampled every 0.2 s in the run (VmHWM also counts "
        "the runtime's and plugins' mapped files, which are shared and reclaimable, and the ring buffer twice, since it is mapped twice);",
        "- socket filter: run time per program run and per request from the kernel's BPF statistics (`kernel.bpf_stats_enabled`, "
        "on during the whole benchmark); this kernel time is charged to nginx's and wrk's soft interrupts, not to the agent;",
        "- InfluxDB's CPU is shown separately: it runs on the same cores, so it is part of the loss;",
        "- completeness: requests in the agent's R.E.D. output in InfluxDB (`http_red`, route level) per direction, divided by the requests "
        "nginx counted (stub_status) while the agent ran; `in` is seen on the server pod's veth, `out` on the client's;",
        f"- the `rate` scenario paces wrk (each connection waits {RATE_PACE_MS} ms after each response; the number of connections is rescaled after every run, warm-ups included, towards {args.rate} req/s): wrk has no fixed-rate mode, so the rate reached is shown.",
        "",
        "## Targets",
        "",
        "| figure | target | measured | met |",
        "|---|---|---|---|",
        *target_rows(analysis),
        "",
        "## Throughput and latency",
        "",
    ]
    compared = ["idle", *reversed(agents)]  # before, then full, when the run had both
    lines += ["| scenario | none req/s | " + " | ".join(f"{state} req/s" for state in compared) + " | " + " | ".join(f"loss {state}" for state in compared)
              + " | p99 none ms | " + " | ".join(f"p99 added {state} ms" for state in compared) + " |",
              "|---|---|" + "---|" * (3 * len(compared) + 1)]
    for scenario, a in analysis.items():
        s = a["states"]
        lines.append(f"| {scenario} | {fmt(s.get('none', {}).get('rps'), 0)} | " + " | ".join(fmt(s.get(state, {}).get("rps"), 0) for state in compared)
                     + " | " + " | ".join(fmt(a.get(f"loss_{state}"), 1, "%") for state in compared)
                     + f" | {fmt(s.get('none', {}).get('p99_ms'), 2)} | " + " | ".join(fmt(a.get(f"p99_added_{state}"), 2) for state in compared) + " |")
    lines += [
        "",
        "## Cost and completeness of the agent" + (" (`full`: the capture platform; `before`: the HTTP-only agent)" if "before" in agents else ""),
        "",
        "| scenario | agent | agent CPU-s per million | socket filter ns per run | socket filter CPU-s per million | influxd CPU-s per million | agent peak RSS MB | agent peak private MB | completeness in | completeness out | call log | loss counters (sum over runs) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario, a in analysis.items():
        for state in reversed(agents):
            st = a["states"].get(state)
            if not st:
                continue
            counters = ", ".join(f"{k}={v}" for k, v in sorted(st["loss_counters"].items()) if v) or "all zero"
            pct = lambda s: f"{100 * s['median']:.3f}% ({100 * s['min']:.3f}% to {100 * s['max']:.3f}%)" if s else "-"
            lines.append(f"| {scenario} | {state} | {fmt(st['cpu_s_per_million'], 2)} | {fmt(st['filter_ns_per_run'], 0)} | {fmt(st['filter_cpu_s_per_million'], 2)} "
                         f"| {fmt(st['influxd_cpu_s_per_million'], 2)} | {fmt(st['peak_rss_mb'], 0)} | {fmt(st['peak_private_mb'], 0)} "
                         f"| {pct(st['completeness_in'])} | {pct(st['completeness_out'])} | {pct(st['completeness_call_log'])} | {counters} |")
    optional = [(scenario, state, a) for scenario, a in analysis.items() for state in OPTIONAL_STATES if state in a["states"] and state not in agents]
    if optional:
        lines += ["", "| scenario | state | req/s | loss | agent CPU-s per million | capture program ns per run | agent peak RSS MB |", "|---|---|---|---|---|---|---|"]
        for scenario, state, a in optional:
            st = a["states"][state]
            lines.append(f"| {scenario} | {state} | {fmt(st['rps'], 0)} | {fmt(a.get('loss_' + state), 1, '%')} | {fmt(st['cpu_s_per_million'], 2)} "
                         f"| {fmt(st['filter_ns_per_run'], 0)} | {fmt(st['peak_rss_mb'], 0)} |")
    counter_names = sorted({k for a in analysis.values() for st in a["states"].values() for k in st.get("loss_counters", {})})
    lines += ["", "Loss counters read (all runs): " + ", ".join(f"`{n}`" for n in counter_names) + ".",
              f"wrk socket errors and non-2xx answers, all runs: {sum(a['socket_errors'] for a in analysis.values())}."]
    compared_runs = {scenario: a["after_vs_before"] for scenario, a in analysis.items() if a.get("after_vs_before")}
    if compared_runs:
        lines += ["", "### The capture platform against the HTTP-only agent",
                  "", "`full` against `before` in the same repetition (paired, so drift between repetitions cancels out).", "",
                  "| scenario | throughput full vs before | loss full - before | p99 full - before ms | agent CPU-s per million full / before | agent peak RSS full - before MB |",
                  "|---|---|---|---|---|---|"]
        for scenario, d in compared_runs.items():
            lines.append(f"| {scenario} | {fmt(d['throughput_pct'], 1, '%')} | {fmt(d['loss_pp'], 1, ' pp')} | {fmt(d['p99_ms'], 2)} "
                         f"| {fmt(d['cpu_ratio'], 2)} | {fmt(d['peak_rss_mb'], 0)} |")
    attachments = [(scenario, tc_state, a[f"{tc_state}_vs_{socket_state}"]) for scenario, a in analysis.items()
                   for tc_state, socket_state in zip(TC_STATES, ("idle", "full")) if a.get(f"{tc_state}_vs_{socket_state}")]
    if attachments:
        lines += ["", "### tc filters against socket filters",
                  "", "Each tc state against its socket-filter twin in the same repetition (paired).", "",
                  "| scenario | states | loss tc - socket | capture program ns per run tc - socket | agent CPU-s per million tc / socket |",
                  "|---|---|---|---|---|"]
        for scenario, tc_state, d in attachments:
            lines.append(f"| {scenario} | {tc_state} vs {tc_state[:-3]} | {fmt(d['loss_pp'], 1, ' pp')} | {fmt(d['ns_per_run'], 0)} | {fmt(d['cpu_ratio'], 2)} |")
    if baseline:
        lines += ["", f"## Against the baseline run ({baseline['machine']['commit']}, {baseline['generated']})", "",
                  "| scenario | figure | baseline | this run |", "|---|---|---|---|"]
        earlier = baseline["analysis"]
        baseline_settings = {"states": STATES, **baseline["settings"]}  # runs from before --states had these
        changed = [f"`{k}` {baseline_settings.get(k, 'absent')} -> {vars(args).get(k, 'absent')}"
                   for k in sorted(set(baseline_settings) | set(vars(args)))
                   if k not in ("agent", "before_agent", "loader", "output", "results", "baseline", "report_only") and baseline_settings.get(k) != vars(args).get(k)]
        if changed:
            lines[-2:-2] = ["Settings that differ from the baseline run: " + ", ".join(changed) + ". (Without `agent_warmup`, runs with the agent "
                            "had the same warm-up as runs without it, so more of its JIT start-up fell into the measured window.)", ""]
        for scenario, a in analysis.items():
            if scenario not in earlier:
                continue
            b = earlier[scenario]
            pairs = [("loss full %", b.get("loss_full"), a.get("loss_full"), 1),
                     ("p99 added full ms", b.get("p99_added_full"), a.get("p99_added_full"), 2)]
            if "full" in a["states"] and "full" in b["states"]:
                pairs += [("agent CPU-s per million", b["states"]["full"]["cpu_s_per_million"], a["states"]["full"]["cpu_s_per_million"], 2),
                          ("agent peak RSS MB", b["states"]["full"]["peak_rss_mb"], a["states"]["full"]["peak_rss_mb"], 0),
                          # Results files from before the `before` state kept the full agent's completeness beside its states.
                          ("completeness in", b["states"]["full"].get("completeness_in", b.get("completeness_in")), a["states"]["full"]["completeness_in"], 5)]
            for name, x, y, digits in pairs:
                lines.append(f"| {scenario} | {name} | {fmt(x, digits)} | {fmt(y, digits)} |")
    if micro:
        lines += ["", "## Micro-benchmarks (BenchmarkDotNet, short job, in process)", ""]
        for table in micro:
            lines += [table, ""]
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")


def interrupt(signum, frame):
    raise KeyboardInterrupt  # tear down the pods and servers as on Ctrl-C


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="every size with every client mode, 10 s runs")
    parser.add_argument("--scenarios", nargs="+", help=f"SIZE/CLIENT items; sizes {list(SIZES)}, clients {list(CLIENTS)} or rate")
    parser.add_argument("--states", nargs="+", default=STATES, choices=STATES + ["redonly", "prometheus", *TC_STATES],
                        help="states to compare (default none idle full, plus redonly in 20B/ka50; redonly: the full agent without the call log; "
                        "idle-tc, full-tc: idle and full with the capture as tc filters)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    parser.add_argument("--duration", type=int, help="seconds per measured wrk run (default 8, 10 with --full)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each measured run")
    parser.add_argument("--agent-warmup", type=int, default=3, help="seconds of wrk before each measured run with the agent or the filter attached")
    parser.add_argument("--settle", type=int, default=2, help="seconds the agent's CPU is still counted after wrk ends")
    parser.add_argument("--rate", type=int, default=20000, help="requests/s aimed at by the rate scenario (0: no rate scenario)")
    parser.add_argument("--agent", default=os.path.join(ARTIFACTS, "agent"), help="the published agent's folder")
    parser.add_argument("--loader", default=os.path.join(ARTIFACTS, "bin", "Kubebpf.Benchmarks", "release", "Kubebpf.Benchmarks.dll"))
    parser.add_argument("--before-agent", metavar="DIR", help="an older published agent's folder (the HTTP-only agent), run as state `before` "
                        "in every scenario with its own configuration format; ./build.sh --target=Benchmark --before=<git ref> builds it")
    parser.add_argument("--before-commit", metavar="COMMIT", help="the commit --before-agent was published from, named in the report")
    parser.add_argument("--no-micro", action="store_true", help="skip the BenchmarkDotNet parser and tracker benchmarks")
    parser.add_argument("--baseline", help="results JSON of an earlier run, shown beside this run's figures")
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--results", default=os.path.join(ARTIFACTS, "benchmarks", "overhead.json"), help="where the raw results go")
    parser.add_argument("--report-only", metavar="RESULTS", help="only write the report again from a results JSON (e.g. after changing its layout)")
    args = parser.parse_args()
    # Processes run in other working directories (the micro benchmarks, the capture-only loader).
    args.agent, args.loader = os.path.abspath(args.agent), os.path.abspath(args.loader)
    if args.report_only:
        with open(args.report_only) as f:
            saved = json.load(f)
        baseline = None
        if args.baseline:
            with open(args.baseline) as f:
                baseline = json.load(f)
        settings = argparse.Namespace(**{**vars(args), **saved["settings"]})
        write_report(args.output, settings, saved["machine"], analyse(saved["runs"]), saved.get("micro", []), baseline,
                     saved.get("command", "sudo ./build.sh --target=Benchmark" + (" --full=true" if settings.full else "")), saved["generated"])
        log(f"wrote {args.output}")
        return
    args.duration = args.duration or (10 if args.full else 8)
    scenarios = args.scenarios or (FULL_SCENARIOS if args.full else DEFAULT_SCENARIOS)
    if args.rate and not args.scenarios:
        scenarios = scenarios + ["20B/rate"]
    if os.geteuid() != 0:
        sys.exit("overhead.py: run as root (network namespaces, eBPF)")
    for tool in ("ip", "nginx", "wrk", "influxd", "curl", "dotnet"):
        if not shutil.which(tool):
            sys.exit(f"overhead.py: {tool} is missing; ./build.sh installs what the benchmark needs")
    for path in (os.path.join(args.agent, "kubebpf"), args.loader):
        if not os.path.exists(path):
            sys.exit(f"overhead.py: {path} is missing: ./build.sh --target=Publish first (the Benchmark target does it)")
    if args.before_agent and not os.path.exists(os.path.join(args.before_agent, "kubebpf")):
        sys.exit(f"overhead.py: {args.before_agent} has no published agent (kubebpf)")

    command = ("sudo ./build.sh --target=Benchmark" + (" --full=true" if args.full else "")
               + (f" --before={args.before_commit or '<git ref>'}" if args.before_agent else ""))
    # Options that only name places on this machine are left out of the report (and the before commit is in the command).
    shown, skip = [], False
    for argument in sys.argv[1:]:
        if skip or argument in ("--agent", "--loader", "--output", "--results", "--baseline", "--before-agent", "--before-commit"):
            skip = not skip
            continue
        shown.append(argument)
    if shown and shown != ["--full"]:
        command += " (this run: overhead.py " + " ".join(shown) + ")"
    work = tempfile.mkdtemp(prefix="kubebpf-overhead-")
    bench = Bench(args, work)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        started, load_before = time.monotonic(), os.getloadavg()[1]
        results = bench.run(scenarios)
        minutes, load_after = (time.monotonic() - started) / 60, os.getloadavg()[1]
        log(f"load runs took {minutes:.1f} min")
    finally:
        bench.close()
    # The load runs are the long part: keep their raw results before anything else can fail.
    os.makedirs(os.path.dirname(args.results), exist_ok=True)
    with open(args.results + ".load", "w") as f:
        json.dump(results, f)
    micro = [] if args.no_micro else micro_benchmarks(args, work)
    analysis = analyse(results)
    info = machine()
    info["background"] = f"{minutes:.0f} min of load runs; 5-minute load average {load_before:.1f} before, {load_after:.1f} after"
    baseline = None
    if args.baseline:
        with open(args.baseline) as f:
            baseline = json.load(f)
    generated = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    with open(args.results, "w") as f:
        json.dump({"generated": generated, "machine": info,
                   "settings": {k: v for k, v in vars(args).items() if k not in ("agent", "before_agent", "loader", "output", "results", "baseline")},
                   "micro": micro, "command": command,
                   "analysis": analysis, "runs": results}, f, indent=1)
    write_report(args.output, args, info, analysis, micro, baseline, command, generated)
    if not bench.kept_logs:
        shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {args.output} and {args.results}" + (f"; logs kept in {work}" if bench.kept_logs else ""))


if __name__ == "__main__":
    main()
