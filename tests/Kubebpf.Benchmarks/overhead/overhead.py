#!/usr/bin/env python3
"""End-to-end overhead of the agent on the workload it watches (issues 5 and 15), written to BENCHMARKS.md.

Network-namespace pods on a bridge (a Kubernetes node as the socket filter sees it): nginx with one worker in the
server pod, wrk in the client pod. Scenarios: response size x client mode (50, 1,000 or 10,000 keep-alive connections,
Connection: close); the curves of issue 15, against the request rate (rate<N>k: wrk paced towards N thousand req/s,
saturation being 20B/ka50), the observed pods (pods<N>: N client pods with their own veths and wrk, 100 connections in
all) and the connections (ka50, ka1000, ka10000); dns/udp (dnsperf against dnsmasq) and mysql/select (mysqlslap against
MariaDB) in the same pods; rest/none (the agent without traffic: its memory and CPU at rest). Each scenario runs in
these states, interleaved and in alternating order in every repetition because these machines drift:

  none  - no agent;
  idle  - the agent's socket filter attached to the pods' veths, user space only consuming the ring buffer
          (`Kubebpf.Benchmarks capture-only`): the kernel-side cost;
  full  - the published agent: capture, HTTP parser, R.E.D., call log, InfluxDB sink to a local influxd;
  redonly - the same without the call log (in 20B/ka50 only): the call log's share of the loss;
  serverside - the full agent observing the server's pod alone (in 20B/ka50 only): each request is captured, parsed
          and counted once, as on a node that hosts one end of each call, where `full` observes both ends on one node;
  unsampled - with --states: the full agent writing a call-log point for every exchange (CallLog:Sampling off), the
          cost the call-log policy saves;
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
the agent's self-metrics; with `before`, the same figures of both agents compared run by run. The curves are drawn
into SVGs next to their tables (plots.py, with Debian's python3 and python3-matplotlib). Run as root;
`./build.sh --target=Benchmark` builds, publishes and runs it (`--before=<git ref>` also builds the older agent;
`--reps=<n> --duration=<seconds>` for longer runs). 10,000 connections need a hard limit of open files above 10,100.
"""

import argparse
import datetime
import json
import operator
import os
import re
import shlex
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
# name -> (connections, extra wrk arguments). Two more HTTP client kinds are parametrised by name: "rate<N>k" paces wrk
# towards N thousand req/s (see Bench.wrk), "pods<N>" spreads POD_CURVE_CONNECTIONS over N client pods (one wrk each).
CLIENTS = {"ka50": (50, []), "ka1000": (1000, []), "ka10000": (10000, []), "close": (50, ["-H", "Connection: close"])}
PRIMARY_SCENARIO = "20B/ka50"
# 1KB/ka50 (between 20B and 16KB) is left to --full, so that the default run with its curves stays near 25 minutes.
DEFAULT_SCENARIOS = ["20B/ka50", "20B/ka1000", "20B/ka10000", "20B/close", "16KB/ka50"]
FULL_SCENARIOS = [f"{s}/{c}" for s in SIZES for c in CLIENTS]
DEFAULT_RATES = [10, 20, 40, 50]  # thousand req/s, the paced points of the rate curve
DEFAULT_POD_COUNTS = [1, 10, 100]
POD_CURVE_CONNECTIONS = 100  # keep-alive connections over all client pods of a pods<N> scenario, so the load stays comparable
# Scenarios of the other protocols (their own server and load generator in the same pods) and the agent at rest (no load).
DNS_SCENARIO, MYSQL_SCENARIO, REST_SCENARIO = "dns/udp", "mysql/select", "rest/none"
# Protocol of a scenario -> (agent plugin, R.E.D. measurement, its resource tag, call-log measurement).
PROTOCOLS = {"http": ("Http", "http_red", "route", "http_requests"), "dns": ("Dns", "dns_red", "qname", "dns_requests"),
             "mysql": ("MySql", "mysql_red", "fingerprint", "mysql_requests")}
# Curves: name -> (what varies, [(point label, scenario)]); saturation (20B/ka50) closes the rate curve.
CURVE_TITLES = {"rate": "request rate (req/s aimed at)", "pods": "observed pods (client pods, one veth each)",
                "connections": "concurrent keep-alive connections"}
STATES = ["none", "idle", "full"]
# The full agent without the call log (R.E.D. only), to split its cost: by default in the primary scenario only.
# The older agent given by --before-agent, in every scenario.
OPTIONAL_STATES = ["redonly", "serverside", "unsampled", "before", "prometheus", "idle-tc", "full-tc"]
AGENT_STATES = ("full", "redonly", "serverside", "unsampled", "before", "prometheus", "full-tc")
# States whose capture is attached as tc filters rather than socket filters.
TC_STATES = ("idle-tc", "full-tc")
RATE_PACE_MS = 10
MAX_RATE_CONNECTIONS = 2000
DNS_NAMES = ["web", "api", "db", "cache"]  # names of the benchmark zone, asked for in turn (A records)
MYSQL_CONCURRENCY = 50
MYSQL_DATABASE = "kubebpf_bench"
DEBIAN_PYTHON = "/usr/bin/python3"  # has python3-matplotlib, which draws the plots
# Self-metrics that count something lost or refused; anything else (packets, exchanges, gauges) is informational.
# `partial` is the HTTP-only agent's name (Http.partial_segments) for what the capture now calls `truncated`.
# The DNS and MySQL plugins' own: stream and row gaps, timeouts (dnsmasq answers every query). MySQL's
# commands_without_answer is no loss: it counts the commands a server never answers (COM_QUIT, COM_STMT_CLOSE).
# Nor are the call log's sampled-out counters and its shared budget: a kept record's weight stands for those exchanges.
LOSS_PATTERN = re.compile(r"^(?!call_log_\w*(sampled_out|budget_overflow)$).*(drop|unpublished|full|overflow|fail|error|desync|unmatched|unanswered|evicted|rejected|invalid|oversized|collapsed|truncated|partial|unsupported|late_classified|gap|timeout|refused|malformed|skipped)")
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


def protocol_of(scenario):
    head = scenario.split("/")[0]
    return head if head in PROTOCOLS else "http"


def paced_rate(scenario):
    """The req/s a rate<N>k scenario aims at, else None."""
    match = re.fullmatch(r"rate(\d+)k", scenario.split("/")[1])
    return int(match.group(1)) * 1000 if match else None


def pod_count(scenario):
    """The client pods of a pods<N> scenario, else None."""
    match = re.fullmatch(r"pods(\d+)", scenario.split("/")[1])
    return int(match.group(1)) if match else None


def curves(scenarios):
    """The curves that these scenarios make: name -> [(point label, scenario)], in the order of what varies."""
    rate = [(f"{paced_rate(s) // 1000}k", s) for s in sorted((s for s in scenarios if paced_rate(s)), key=paced_rate)]
    pods = [(str(pod_count(s)), s) for s in sorted((s for s in scenarios if pod_count(s)), key=pod_count)]
    connections = [(f"{CLIENTS[c][0]:,}", f"20B/{c}") for c in ("ka50", "ka1000", "ka10000") if f"20B/{c}" in scenarios]
    if rate and PRIMARY_SCENARIO in scenarios:
        rate.append(("saturation", PRIMARY_SCENARIO))
    return {name: points for name, points in (("rate", rate), ("pods", pods), ("connections", connections)) if len(points) > 1}


class Pods:
    """A bridge and two pods (server, client) with unique names and a free 10.214.x.0/24 subnet, and on request a pool
    of more client pods (the pods curve) whose veths have their own name pattern, so other scenarios do not observe them."""

    def __init__(self, pool_size=0):
        self.prefix = f"kbo{os.getpid() % 4096:03x}"
        used = run(["ip", "-o", "addr"], check=False).stdout + run(["ip", "-all", "netns", "exec", "ip", "-o", "addr"], check=False).stdout
        self.subnet = next(n for n in range(1, 255) if f"10.214.{n}." not in used)
        self.bridge = self.prefix + "br"
        self.server = (self.prefix + "-srv", self.prefix + "h0", f"10.214.{self.subnet}.1")
        self.client = (self.prefix + "-cli", self.prefix + "h1", f"10.214.{self.subnet}.2")
        self.pool = [(f"{self.prefix}-c{i}", f"{self.prefix}m{i}", f"10.214.{self.subnet}.{10 + i}") for i in range(pool_size)]
        self.created = []

    def up(self):
        run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self.created.append(("link", self.bridge))
        run(["ip", "link", "set", self.bridge, "up"])
        for i, (ns, host_if, ip) in enumerate([self.server, self.client, *self.pool]):
            run(["ip", "netns", "add", ns])
            self.created.append(("netns", ns))
            run(["ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns])
            run(["ip", "link", "set", host_if, "master", self.bridge, "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            if i >= 2:
                continue  # a pool pod holds a few connections
            # 10,000 connections and Connection: close at full speed need a deep backlog and reusable ports.
            for setting in ["net.core.somaxconn=16384", "net.ipv4.tcp_max_syn_backlog=16384", "net.ipv4.tcp_tw_reuse=1",
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
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 16384; }}
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
        listen 80 backlog=16384;
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
            in_pod(self.pods.server, ["nginx", "-e", f"{self.directory}/error.log", "-p", self.directory, "-c", f"{self.directory}/nginx.conf"]),
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


class Dnsmasq:
    """dnsmasq in the server pod, authoritative for a small zone (no upstream, no query log); its own count of the
    queries it answered, dumped to its log on SIGUSR1, is the server's truth."""

    ZONE = "bench.test"

    def __init__(self, pods, directory):
        self.pods = pods
        self.directory = directory
        self.log_path = os.path.join(directory, "dnsmasq.log")
        os.makedirs(directory)
        with open(os.path.join(directory, "dnsmasq.conf"), "w") as conf:
            conf.write("\n".join(["no-resolv", "no-hosts", "user=root", "port=53", f"listen-address={pods.server[2]}", "bind-interfaces",
                                  f"local=/{self.ZONE}/", f"log-facility={self.log_path}", "pid-file=",
                                  *(f"host-record={name}.{self.ZONE},192.0.2.{10 + i}" for i, name in enumerate(DNS_NAMES))]) + "\n")
        self.queries = os.path.join(directory, "queries.txt")
        with open(self.queries, "w") as f:
            f.write("".join(f"{name}.{self.ZONE} A\n" for name in DNS_NAMES))
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["ip", "netns", "exec", self.pods.server[0], "dnsmasq", "--keep-in-foreground",
                                         f"--conf-file={self.directory}/dnsmasq.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = run(["ip", "netns", "exec", self.pods.client[0], "dig", "+short", "+time=1", "+tries=1", f"@{self.pods.server[2]}",
                         f"{DNS_NAMES[0]}.{self.ZONE}"], check=False)
            if probe.stdout.strip():
                return
            time.sleep(0.2)
        raise RuntimeError("dnsmasq did not answer")

    def requests(self):
        """Queries dnsmasq answered so far (the probe's included: it is answered before any run counts)."""
        def dumps():
            with open(self.log_path) as f:
                return re.findall(r"queries answered locally (\d+)", f.read())

        before = len(dumps())
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            counts = dumps()
            if len(counts) > before:
                return int(counts[-1])
            time.sleep(0.05)
        raise RuntimeError("dnsmasq did not dump its statistics on SIGUSR1")

    def stop(self):
        if self.process:
            stop_process(self.process, 10)


class MariaDb:
    """MariaDB in the server pod (its own data directory, port 3306, a user `app` without password); its Questions
    status counter, read over the Unix socket that no capture sees, is the server's truth."""

    def __init__(self, pods, directory):
        self.pods = pods
        self.directory = directory
        self.socket = os.path.join(directory, "mariadb.sock")
        self.status_reads = 0
        self.process = None

    def start(self):
        data = os.path.join(self.directory, "data")
        os.makedirs(self.directory)
        run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"])
        error_log = os.path.join(self.directory, "error.log")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.pods.server[0], "mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={self.socket}",
             "--port=3306", "--bind-address=0.0.0.0", "--user=root", f"--pid-file={self.directory}/mariadb.pid", f"--log-error={error_log}",
             "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=64M", f"--max-connections={4 * MYSQL_CONCURRENCY}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.admin(f"CREATE USER IF NOT EXISTS app@'%'; GRANT ALL ON *.* TO app@'%'; CREATE DATABASE IF NOT EXISTS {MYSQL_DATABASE};",
                          check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("mariadbd did not start: " + (open(error_log).read() if os.path.exists(error_log) else "no error log"))

    def admin(self, sql, check=True):
        return run(["mariadb", "--no-defaults", f"--socket={self.socket}", "-u", "root", "--batch", "--skip-column-names", "-e", sql], check=check)

    def requests(self):
        """Statements the server received from clients, not counting these reads of the counter themselves."""
        self.status_reads += 1
        return int(self.admin("SHOW GLOBAL STATUS LIKE 'Questions'").stdout.split()[1]) - self.status_reads

    def stop(self):
        if self.process:
            stop_process(self.process, 30)


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


def parse_dnsperf(output):
    completed = int(re.search(r"Queries completed:\s+(\d+)", output).group(1))
    codes = re.search(r"Response codes:(.*)", output)
    noerror = re.search(r"NOERROR (\d+)", codes.group(1)) if codes else None
    return {
        "requests": completed,
        "rps": float(re.search(r"Queries per second:\s+([\d.]+)", output).group(1)),
        "p99_ms": float("nan"),  # dnsperf reports the mean, not percentiles
        "socket_errors": int(re.search(r"Queries lost:\s+(\d+)", output).group(1)),
        "non_2xx": completed - (int(noerror.group(1)) if noerror else 0),
    }


def in_pod(pod, command):
    """The command line that runs `command` in a pod with as many file descriptors as the hard limit allows (10,000
    connections need more than the usual soft limit; raising the hard limit may not be permitted)."""
    return ["ip", "netns", "exec", pod[0], "sh", "-c", 'ulimit -n "$(ulimit -Hn)" && exec ' + " ".join(shlex.quote(a) for a in command)]


def wrk_command(connections, seconds, url, extra=()):
    return ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", *extra, url]


class Bench:
    def __init__(self, args, work, scenarios):
        self.args = args
        self.work = work
        self.pods = Pods(max((pod_count(s) or 0 for s in scenarios), default=0))
        self.servers = {}  # protocol -> its server (requests() is the server's own count)
        self.influx = None
        self.pace_script = os.path.join(work, "pace.lua")
        self.run_index = 0
        self.paced_connections = {}  # (scenario, state) -> wrk connections of its next run
        self.mysql_rates = {}  # state -> statements/s of its last run, to size the next one
        self.bpf_stats = None
        self.kept_logs = False

    def load(self, scenario, seconds, state):
        """Runs the scenario's load for `seconds`: requests, rps, p99_ms, socket_errors, non_2xx of the load generator."""
        if scenario == REST_SCENARIO:
            time.sleep(seconds)
            return {"requests": 0, "rps": 0.0, "p99_ms": float("nan"), "socket_errors": 0, "non_2xx": 0}
        protocol = protocol_of(scenario)
        if protocol == "dns":
            command = ["dnsperf", "-s", self.pods.server[2], "-d", self.servers["dns"].queries, "-l", str(seconds), "-c", "8", "-q", "100", "-t", "2"]
            return parse_dnsperf(run(in_pod(self.pods.client, command), timeout=seconds + 60).stdout)
        if protocol == "mysql":
            return self.mysqlslap(seconds, state)
        return self.wrk(scenario, seconds, state)

    def wrk(self, scenario, seconds, state):
        size, client = scenario.split("/")
        url = f"http://{self.pods.server[2]}/{size}"
        rate, pods = paced_rate(scenario), pod_count(scenario)
        if pods:
            return self.wrk_pods(url, pods, seconds)
        if rate:
            # wrk has no rate limit: each connection waits RATE_PACE_MS after every response, so the rate is about
            # connections / (pace + latency), and latency depends on the state and the machine's load. The connections
            # per scenario and state start from the pace alone and are rescaled after every run towards the rate (see
            # paced()); the report shows the rate actually reached.
            connections = self.paced_connections.get((scenario, state), max(1, round(rate * RATE_PACE_MS / 1000)))
            extra = ["-s", self.pace_script]
        else:
            connections, extra = CLIENTS[client]
        result = parse_wrk(run(in_pod(self.pods.client, wrk_command(connections, seconds, url, extra)), timeout=seconds + 60).stdout)
        if rate:
            self.paced(scenario, state, rate, connections, result["rps"])
        return result

    def wrk_pods(self, url, pods, seconds):
        """One wrk per client pod, all at once, POD_CURVE_CONNECTIONS spread over them: their sums (p99: the worst pod's)."""
        command = wrk_command(max(1, POD_CURVE_CONNECTIONS // pods), seconds, url)
        processes = [subprocess.Popen(in_pod(pod, command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for pod in self.pods.pool[:pods]]
        results = []
        for process in processes:
            out, err = process.communicate(timeout=seconds + 60)
            if process.returncode:
                raise RuntimeError(f"wrk in a client pod exited with {process.returncode}: {err.strip()}")
            results.append(parse_wrk(out))
        total = {key: sum(r[key] for r in results) for key in ("requests", "rps", "socket_errors", "non_2xx")}
        return {**total, "p99_ms": max(r["p99_ms"] for r in results)}

    def paced(self, scenario, state, rate, connections, rps):
        """Rescales a rate scenario's connections for the next run of this state: one proportional step, bounded."""
        if rps > 0:
            wanted = connections * rate / rps
            self.paced_connections[(scenario, state)] = int(min(max(wanted, connections / 2, 1), connections * 2, MAX_RATE_CONNECTIONS))

    def mysqlslap(self, seconds, state):
        """`SELECT 1` from MYSQL_CONCURRENCY connections. mysqlslap runs a number of statements, not a duration: the
        number comes from this state's last rate (warm-ups included), so that a run lasts about `seconds`."""
        rate = self.mysql_rates.get(state) or next(iter(self.mysql_rates.values()), 5000)  # another state's rate before its first run
        statements = max(MYSQL_CONCURRENCY, round(rate * seconds))
        command = ["mysqlslap", "--no-defaults", "-h", self.pods.server[2], "-P", "3306", "-u", "app", f"--concurrency={MYSQL_CONCURRENCY}",
                   f"--number-of-queries={statements}", "--query=SELECT 1", f"--create-schema={MYSQL_DATABASE}"]
        result = run(in_pod(self.pods.client, command), timeout=4 * seconds + 60)
        if result.stderr.strip():
            raise RuntimeError(f"mysqlslap: {result.stderr.strip()}")  # it exits with 0 when its connections fail
        out = result.stdout
        elapsed = float(re.search(r"Average number of seconds to run all queries: ([\d.]+)", out).group(1))
        rate = statements / max(elapsed, 0.001)
        self.mysql_rates[state] = rate
        return {"requests": statements, "rps": rate, "p99_ms": float("nan"), "socket_errors": 0, "non_2xx": 0}

    def observed(self, scenario, state):
        """The pods an agent observes in this scenario and state: (workload, pod name, (namespace, host veth, ip))."""
        if state == "serverside":
            return [("server", "server-0", self.pods.server)]
        count = pod_count(scenario)
        clients = [("client", f"client-{i}", pod) for i, pod in enumerate(self.pods.pool[:count])] if count else [("client", "client-0", self.pods.client)]
        return [("server", "server-0", self.pods.server), *clients]

    def sampling(self, state):
        """The call-log policy: off in `unsampled`, the agent's defaults unless --call-log-per-second or
        --call-log-at-once-per-second set the budgets."""
        if state == "unsampled":
            return {"Enabled": False}
        budgets = {"PerSecond": self.args.call_log_per_second, "AtOncePerSecond": self.args.call_log_at_once_per_second}
        return {key: value for key, value in budgets.items() if value is not None}

    def agent_config(self, database, state, scenario):
        workloads = os.path.join(self.work, "workloads.yaml")
        observed = self.observed(scenario, state)
        with open(workloads, "w") as f:
            f.write("workloads:\n")
            for workload, pod, (_, host_if, ip) in observed:
                f.write(f"  - {{ namespace: bench, pod: {pod}, workload: {{ kind: Deployment, name: {workload} }}, "
                        f"service: {workload}, interfaces: [{host_if}], ips: [{ip}] }}\n")
        veths = [host_if for _, _, (_, host_if, _) in observed]
        interfaces = {"Interfaces": veths, "PeerSideInterfaces": veths}
        protocol = protocol_of(scenario)
        # The HTTP-only agent had no Capture plugin: its HTTP probe attached to the interfaces itself.
        attach = {"Attach": "tc"} if state in TC_STATES else {}
        capture = {"Http": interfaces} if state == "before" else {"Capture": {**interfaces, **attach}, "Http": {}, PROTOCOLS[protocol][0]: {}}
        return {
            "Agent": {"NodeName": "bench"},
            "Plugins": {
                "StaticMetadata": {"File": workloads},
                **capture,
                "Red": {"CallLog": {"Enabled": state != "redonly", "Sampling": self.sampling(state)}},
                "InfluxDb": {"Url": self.influx.url, "ApiVersion": 1, "Database": database},
                # The full agent plus the Prometheus sink counting every exchange (its endpoint on a free port, not scraped).
                **({"Prometheus": {"ListenAddress": f"127.0.0.1:{free_port()}"}} if state == "prometheus" else {}),
            },
            "Logging": {"LogLevel": {"Default": "Warning", "Kubebpf": "Information"}},
        }

    def start_observer(self, state, database, scenario):
        """Starts an agent (full, redonly, before) or the capture-only loader (idle); returns the process once it observes the pods."""
        log_path = os.path.join(self.work, f"{state}-{self.run_index}.log")
        veths = [host_if for _, _, (_, host_if, _) in self.observed(scenario, state)]
        if state in AGENT_STATES:
            config = os.path.join(self.work, "kubebpf.json")
            with open(config, "w") as f:
                json.dump(self.agent_config(database, state, scenario), f, indent=2)
            agent = self.args.before_agent if state == "before" else self.args.agent
            command = [os.path.join(agent, "kubebpf"), "run", "--config", config]
            ready = "HTTP probe attached to" if state == "before" else "Capture attached to"
        else:
            command = ["dotnet", self.args.loader, "capture-only", *(["--attach", "tc"] if state in TC_STATES else []), *veths]
            ready = "capture-only attached to"
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(log_path) as f:
                text = f.read()
            if ready in text:
                attached = set(re.findall(re.escape(self.pods.prefix) + r"[hm]\d+", text))
                if not attached.issuperset(veths):
                    raise RuntimeError(f"{state}: not attached to every observed pod's veth:\n{text}")
                return process, log_path
            if process.poll() is not None:
                raise RuntimeError(f"{state} exited with {process.returncode}:\n{text}")
            time.sleep(0.1)
        process.kill()
        raise RuntimeError(f"{state} did not attach within 60 s:\n{open(log_path).read()}")

    def measure(self, scenario, state, rep):
        self.run_index += 1
        database = f"run{self.run_index}"
        server = self.servers.get(protocol_of(scenario)) if scenario != REST_SCENARIO else None

        def served_so_far():
            return server.requests() if server else 0

        served_before = served_so_far()
        process = None
        programs = capture_programs()
        if state != "none":
            process, log_path = self.start_observer(state, database, scenario)
            programs = {i: v for i, v in capture_programs().items() if i not in programs}  # the one it loaded
        try:
            # The agent runs for days on a node: its start (JIT) is not what a request costs, so it warms up longer.
            self.load(scenario, self.args.agent_warmup if process else self.args.warmup, state)
            window_start = served_so_far()
            started = time.monotonic()
            cpu0 = cpu_seconds(process.pid) if process else 0.0
            influx0 = cpu_seconds(self.influx.process.pid)
            bpf0 = capture_programs()
            sampler = MemorySampler(process.pid) if process else None
            if sampler:
                sampler.start()
            result = self.load(scenario, self.args.duration, state)
            served = served_so_far() - window_start
            result.update(scenario=scenario, state=state, rep=rep, served=served)
            if process:
                bpf1 = capture_programs()
                runs = sum(bpf1[i][1] - bpf0[i][1] for i in programs if i in bpf0 and i in bpf1)
                run_ns = sum(bpf1[i][0] - bpf0[i][0] for i in programs if i in bpf0 and i in bpf1)
                if runs:
                    result["filter_ns_per_run"] = run_ns / runs
                    if served:
                        result["filter_cpu_s_per_million"] = run_ns / 1e9 / served * 1e6
                time.sleep(self.args.settle)  # what the agent does for these requests after the load ends
                result["cpu_s"] = cpu_seconds(process.pid) - cpu0
                result["cpu_core_pct"] = 100 * result["cpu_s"] / (time.monotonic() - started)
                if served:
                    result["cpu_s_per_million"] = result["cpu_s"] / served * 1e6
                result["peak_rss_mb"] = peak_rss_mb(process.pid)
                result["peak_private_mb"] = sampler.stop()
            if state in AGENT_STATES:
                influxd = cpu_seconds(self.influx.process.pid) - influx0
                result["influxd_core_pct"] = 100 * influxd / (time.monotonic() - started)
                if served:
                    result["influxd_cpu_s_per_million"] = influxd / served * 1e6
        finally:
            if process:
                if not stop_process(process):
                    self.kept_logs = True
                    log(f"{state} did not stop within 30 s of SIGTERM; killed (see {log_path})")
        if state in AGENT_STATES:
            directions = ("in",) if state == "serverside" else ("in", "out")
            result.update(self.agent_output(database, served_so_far() - served_before, protocol_of(scenario), directions))
        return result

    def agent_output(self, database, served, protocol, directions):
        """Completeness in the directions observed, and self-metrics, from what the agent wrote to InfluxDB (not its logs)."""
        _, red_measurement, resource_tag, call_log = PROTOCOLS[protocol]
        red = {tags["direction"]: row["sum"] for tags, row in self.influx.query(
            database, f"SELECT sum(\"requests\") FROM \"kubebpf_2d\".\"{red_measurement}\" WHERE \"{resource_tag}\" <> '*' GROUP BY \"direction\"")}
        # A sampled call-log point stands for `weight` requests (an agent older than the policy wrote no weight: one each).
        logged = {tags["direction"]: row for tags, row in self.influx.query(
            database, f"SELECT count(\"duration_ns\") AS \"points\", sum(\"weight\") AS \"weight\" FROM \"kubebpf_2d\".\"{call_log}\" GROUP BY \"direction\"")}
        calls = {direction: row["weight"] if row["weight"] is not None else row["points"] for direction, row in logged.items()}
        counters = {}
        for tags, row in self.influx.query(database, "SELECT last(*) FROM \"kubebpf_2d\".\"kubebpf_agent\" GROUP BY \"component\""):
            for column, value in row.items():
                if column.startswith("last_") and value is not None:
                    counters[f"{tags['component']}.{column[5:]}"] = value
        output = {"served_while_agent_ran": served, "red_in": red.get("in", 0), "red_out": red.get("out", 0),
                  "calls_in": calls.get("in", 0), "calls_out": calls.get("out", 0),
                  "call_log_points": sum(row["points"] for row in logged.values()), "counters": counters}
        if served:
            output.update({f"completeness_{direction}": red.get(direction, 0) / served for direction in directions})
            output["completeness_call_log"] = sum(calls.get(direction, 0) for direction in directions) / (len(directions) * served)
        return output

    def run(self, scenarios):
        self.bpf_stats = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")  # run-time statistics of the socket filter; costs every BPF program two clock reads per run
        with open(self.pace_script, "w") as f:
            f.write(f"function delay()\n  return {RATE_PACE_MS}\nend\n")
        self.pods.up()
        protocols = {protocol_of(s) for s in scenarios}
        for protocol, kind in (("http", Nginx), ("dns", Dnsmasq), ("mysql", MariaDb)):
            if protocol in protocols:
                self.servers[protocol] = kind(self.pods, os.path.join(self.work, protocol))
                self.servers[protocol].start()
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
                    log(f"{len(results)}/{total} rep {rep} {scenario:12} {state:4}: {result['rps']:9.0f} req/s, p99 {result['p99_ms']:.2f} ms"
                        + (f", {result['cpu_s']:.2f} CPU-s ({result['cpu_core_pct']:.0f}% of a core), {result['peak_rss_mb']:.0f} MB" if "cpu_s" in result else "")
                        + "".join(f", completeness {d} {result[f'completeness_{d}']:.5f}" for d in ("in", "out") if f"completeness_{d}" in result))
        return results

    def states_of(self, scenario):
        if scenario == REST_SCENARIO:
            states = ["full"]
        elif paced_rate(scenario) or pod_count(scenario) or protocol_of(scenario) != "http":
            states = ["none", "full"]
        elif scenario == PRIMARY_SCENARIO and self.args.states == STATES:
            # The call log's share of the loss: its points go to an influxd on the same two cores.
            states = STATES + ["redonly", "serverside"]
        else:
            states = list(self.args.states)
        if self.args.before_agent and protocol_of(scenario) == "http":
            # Next to the full agent, so that the two run as close together as the alternating order allows.
            states.insert(states.index("full") if "full" in states else len(states), "before")
        return states

    def close(self):
        if self.bpf_stats is not None:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(self.bpf_stats)
        for part in (*self.servers.values(), self.influx):
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
               "influxd_cpu_s_per_million", "completeness_in", "completeness_out", "completeness_call_log", "cpu_core_pct", "influxd_core_pct")


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
        if "full" in a["states"] and "before" in a["states"] and scenario != REST_SCENARIO:  # at rest: no requests to compare per
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


def worst_completeness(state):
    """The worst run's completeness over both directions, or None."""
    if not state or not state["completeness_in"] or not state["completeness_out"]:
        return None
    return min(state["completeness_in"]["min"], state["completeness_out"]["min"])


def complete(state):
    """100.000% (as shown) in every run, both directions, and no loss counter above zero."""
    worst = worst_completeness(state)
    return worst is not None and round(100 * worst, 3) >= 100 and not any(state["loss_counters"].values())


def target_rows(analysis):
    """Issue 15's targets, in the default configuration (`full`) unless named otherwise."""
    primary = analysis.get(PRIMARY_SCENARIO, {})
    full = primary.get("states", {}).get("full")
    rows = []

    def row(name, target, value, ok):
        rows.append(f"| {name} | {target} | {value} | {'-' if ok is None else 'yes' if ok else 'no'} |")

    if primary.get("loss_full"):
        row("throughput loss at saturation, 20 B, 50 keep-alive connections (median)", "<= 10%", fmt(primary["loss_full"], 1, "%"), primary["loss_full"]["median"] <= 10)
    if primary.get("loss_idle"):
        row("the same with the capture alone (`idle`)", "<= 5%", fmt(primary["loss_idle"], 1, "%"), primary["loss_idle"]["median"] <= 5)
    if primary.get("loss_redonly"):
        row("the same without the call log (`redonly`, for comparison)", "-", fmt(primary["loss_redonly"], 1, "%"), None)
    if full and full["cpu_s_per_million"]:
        cpu = full["cpu_s_per_million"]["median"]
        influxd = full["influxd_cpu_s_per_million"]
        row("agent CPU per million requests at saturation, 20 B, 50 keep-alive connections (median; influxd's beside it)", "<= 1 CPU-s",
            f"{cpu:.2f} (influxd {influxd['median']:.2f})" if influxd else f"{cpu:.2f}", cpu <= 1)
    serverside = primary.get("states", {}).get("serverside")
    if serverside and serverside["cpu_s_per_million"]:
        row("the same observing the server's pod alone (`serverside`: each request captured once, not on both pods' veths)", "-",
            fmt(serverside["cpu_s_per_million"], 2), None)
    cpu = [(a["states"]["full"]["cpu_s_per_million"]["median"], s) for s, a in analysis.items()
           if protocol_of(s) == "http" and (a["states"].get("full") or {}).get("cpu_s_per_million")]
    if cpu:
        worst, scenario = max(cpu)
        row("agent CPU per million requests, worst HTTP scenario (median)", "-", f"{worst:.2f} in {scenario}", None)
    if full and full["peak_rss_mb"]:
        row("agent peak RSS at saturation, 20 B, 50 keep-alive connections (worst run)", "<= 80 MB",
            f"{full['peak_rss_mb']['max']:.0f} MB" + (f" (private: {full['peak_private_mb']['max']:.0f} MB)" if full["peak_private_mb"] else ""),
            full["peak_rss_mb"]["max"] <= 80)
    rss = [(a["states"]["full"]["peak_rss_mb"]["max"], s) for s, a in analysis.items() if (a["states"].get("full") or {}).get("peak_rss_mb")]
    if rss:
        worst, scenario = max(rss)
        row("agent peak RSS, worst run of any scenario", "-", f"{worst:.0f} MB in {scenario}", None)
    rest = analysis.get(REST_SCENARIO, {}).get("states", {}).get("full")
    if rest and rest["peak_rss_mb"]:
        row("agent peak RSS at rest, no traffic (worst run)", "<= 60 MB",
            f"{rest['peak_rss_mb']['max']:.0f} MB" + (f" (private: {rest['peak_private_mb']['max']:.0f} MB)" if rest["peak_private_mb"] else ""),
            rest["peak_rss_mb"]["max"] <= 60)
        row("agent CPU at rest, no traffic (median)", "-", fmt(rest["cpu_core_pct"], 1, "% of a core"), None)
    paced = sorted((paced_rate(s), s) for s, a in analysis.items() if paced_rate(s) and worst_completeness(a["states"].get("full")) is not None)
    if paced:
        aimed, scenario = paced[-1]
        state = analysis[scenario]["states"]["full"]
        row(f"completeness at the highest paced rate, {state['rps']['median']:.0f} req/s reached of {aimed} aimed (worst run, both directions)",
            "100.000%, zero drops", f"{100 * worst_completeness(state):.3f}%, loss counters total {sum(state['loss_counters'].values())}", complete(state))
        held = [(a, s) for a, s in paced if complete(analysis[s]["states"]["full"])]
        row("highest paced rate complete in every run (100.000%, zero drops)", "-",
            f"{held[-1][0]} req/s aimed, {analysis[held[-1][1]]['states']['full']['rps']['median']:.0f} reached" if held else "none", None)
    rows += after_vs_before_rows(analysis)
    return rows


def curve_rows(analysis, points, unit="req/s"):
    """A curve's table: per point, throughput without and with the agent, loss, CPU of the agent and influxd, completeness."""
    rows = [f"| point | scenario | none {unit} | full {unit} | loss full | agent CPU-s per million | agent % of a core | socket filter CPU-s per million "
            "| influxd CPU-s per million | influxd % of a core | completeness (worst run) | loss counters (sum over runs) |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, scenario in points:
        a = analysis[scenario]
        none, full = a["states"].get("none", {}), a["states"].get("full", {})
        worst = worst_completeness(full)
        counters = ", ".join(f"{k}={v}" for k, v in sorted(full.get("loss_counters", {}).items()) if v) or "all zero"
        rows.append(f"| {label} | {scenario} | {fmt(none.get('rps'), 0)} | {fmt(full.get('rps'), 0)} | {fmt(a.get('loss_full'), 1, '%')} "
                    f"| {fmt(full.get('cpu_s_per_million'), 2)} | {fmt(full.get('cpu_core_pct'), 0, '%')} | {fmt(full.get('filter_cpu_s_per_million'), 2)} "
                    f"| {fmt(full.get('influxd_cpu_s_per_million'), 2)} "
                    f"| {fmt(full.get('influxd_core_pct'), 0, '%')} | {'-' if worst is None else f'{100 * worst:.3f}%'} | {counters} |")
    return rows


def plot_data(analysis):
    """What plots.py draws: per curve, its points' labels and the medians and ranges of each figure."""
    figures = {"loss": ("loss_full", None), "agent_cpu_s_per_million": ("full", "cpu_s_per_million"),
               "filter_cpu_s_per_million": ("full", "filter_cpu_s_per_million"),
               "influxd_cpu_s_per_million": ("full", "influxd_cpu_s_per_million"), "agent_core_pct": ("full", "cpu_core_pct"),
               "influxd_core_pct": ("full", "influxd_core_pct")}
    data = {}
    for name, points in curves(list(analysis)).items():
        series = {}
        for figure, (key, state_key) in figures.items():
            values = [analysis[s].get(key) if state_key is None else analysis[s]["states"].get(key, {}).get(state_key) for _, s in points]
            series[figure] = [v and [v["median"], v["min"], v["max"]] for v in values]
        data[name] = {"title": CURVE_TITLES[name], "labels": [label for label, _ in points], "series": series}
    return data


def draw_plots(analysis, directory):
    """One SVG per curve, drawn by plots.py with Debian's python3 (matplotlib from python3-matplotlib; the python3 on
    PATH may be another interpreter without Debian's modules)."""
    data = plot_data(analysis)
    if not data:
        return {}
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(data, f)
        f.flush()
        run([DEBIAN_PYTHON, os.path.join(os.path.dirname(os.path.abspath(__file__)), "plots.py"), f.name, directory])
    return {name: os.path.join(directory, f"{name}.svg") for name in data}


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


def write_report(path, args, info, analysis, micro, baseline, command, generated, plots):
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
        "Network-namespace pods on a bridge; nginx (one worker, sendfile, no access log) in the server pod, wrk (one thread) in the client pod, "
        "all on the same cores as the agent and InfluxDB. States: **none** (no agent), **idle** (the agent's socket filter on the observed "
        "pods' veths and a user-space loop that only consumes the ring buffer: the kernel-side cost), **full** (the published agent: "
        f"capture, HTTP parser, R.E.D., call log, static metadata, InfluxDB 1.x sink to a local influxd), {before}and in "
        f"{PRIMARY_SCENARIO} also **redonly** (the same agent without the call log) and **serverside** (the same agent observing the server's "
        "pod alone: each request is captured, parsed and counted once, as on a node that hosts one end of each call; `full` observes both "
        "ends on one node, so every request twice). "
        + ("**unsampled** is the full agent with a call-log point for every exchange (`CallLog:Sampling:Enabled` false); **full** keeps "
           "every error and slow call and a weighted budget of the rest. " if "unsampled" in args.states else "")
        + f"{args.reps} repetitions; in each, every scenario runs every state, in alternating order, {args.duration} s per run after a "
        f"{args.warmup} s warm-up ({args.agent_warmup} s with the agent or the filter attached: a node agent runs for days, so its JIT start-up is not a per-request cost). Loss and added latency are paired within a repetition; figures are median (min to max).",
        "",
        f"- agent CPU: utime+stime of the agent process over the measured run plus {args.settle} s, divided by the requests the server served in the run "
        "(CPU-s per million), or by the wall time of the run plus the settle time (% of a core);",
        "- peak RSS: the agent's VmHWM; peak private: the largest RssAnon + RssShmem sampled every 0.2 s in the run (VmHWM also counts "
        "the runtime's and plugins' mapped files, which are shared and reclaimable, and the ring buffer twice, since it is mapped twice); "
        f"at rest: `{REST_SCENARIO}`, the full agent observing both pods for {args.agent_warmup + args.duration} s without any traffic;",
        "- socket filter: run time per program run and per request from the kernel's BPF statistics (`kernel.bpf_stats_enabled`, "
        "on during the whole benchmark); this kernel time is charged to the pods' soft interrupts, not to the agent;",
        "- InfluxDB's CPU is shown separately: it runs on the same cores, so it is part of the loss;",
        "- completeness: requests in the agent's R.E.D. output in InfluxDB (`<protocol>_red`, resource level) per direction, divided by the "
        "requests the server counted while the agent ran (nginx's stub_status, dnsmasq's queries answered, MariaDB's `Questions`, each read "
        "where no capture sees it); `in` is seen on the server pod's veth, `out` on the client's;",
        f"- `rate<N>k` scenarios pace wrk (each connection waits {RATE_PACE_MS} ms after each response; the number of connections is rescaled "
        "after every run, warm-ups included, towards N thousand req/s): wrk has no fixed-rate mode, so the rate reached is shown;",
        f"- `pods<N>` scenarios: N client pods, each with its own veth and its own wrk (one thread), {POD_CURVE_CONNECTIONS} keep-alive "
        "connections in all spread over them, started together; the agent observes the server pod and those N;",
        f"- `{DNS_SCENARIO}`: dnsperf (8 sockets, up to 100 queries in flight) asking dnsmasq for {len(DNS_NAMES)} names of a local zone in turn, "
        f"with the DNS plugin; `{MYSQL_SCENARIO}`: mysqlslap, `SELECT 1` from {MYSQL_CONCURRENCY} connections against MariaDB, with the "
        "MySQL plugin (mysqlslap runs a number of statements: sized from the previous run's rate to last about the run's duration).",
        "",
        "## Targets",
        "",
        "| figure | target | measured | met |",
        "|---|---|---|---|",
        *target_rows(analysis),
        "",
    ]
    found = curves(list(analysis))
    if found:
        lines += ["## How the cost grows", "",
                  "The agent (`full`) against `none` in the same repetition, per point of each curve; the 20B/ka50 scenario is the "
                  "saturation point of the rate curve and the first point of the connections curve.", ""]
        for name, points in found.items():
            lines += [f"### Against the {CURVE_TITLES[name]}", "", *curve_rows(analysis, points), ""]
            if name in plots:
                lines += [f"![{name} curve: loss and CPU]({os.path.relpath(plots[name], os.path.dirname(os.path.abspath(path)))})", ""]
    protocols = [s for s in (DNS_SCENARIO, MYSQL_SCENARIO) if s in analysis]
    if protocols:
        lines += ["## DNS and MySQL", "",
                  "Queries (DNS) and statements (MySQL) per second instead of requests; the agent's CPU per million of them.", "",
                  *curve_rows(analysis, [("DNS queries" if s == DNS_SCENARIO else "MySQL statements", s) for s in protocols], "per s"), ""]
    lines += [
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
        lines += ["", "| scenario | state | req/s | loss | agent CPU-s per million | capture program ns per run | capture program CPU-s per million "
                  "| agent peak RSS MB | completeness in (worst run) |", "|---|---|---|---|---|---|---|---|---|"]
        for scenario, state, a in optional:
            st = a["states"][state]
            worst_in = f"{100 * st['completeness_in']['min']:.3f}%" if st.get("completeness_in") else "-"
            lines.append(f"| {scenario} | {state} | {fmt(st['rps'], 0)} | {fmt(a.get('loss_' + state), 1, '%')} | {fmt(st['cpu_s_per_million'], 2)} "
                         f"| {fmt(st['filter_ns_per_run'], 0)} | {fmt(st['filter_cpu_s_per_million'], 2)} | {fmt(st['peak_rss_mb'], 0)} | {worst_in} |")
    counter_names = sorted({k for a in analysis.values() for st in a["states"].values() for k in st.get("loss_counters", {})})
    lines += ["", "Loss counters read (all runs): " + ", ".join(f"`{n}`" for n in counter_names) + ".",
              f"Load generator errors (wrk socket errors and non-2xx answers, dnsperf lost queries and answers other than NOERROR), all runs: {sum(a['socket_errors'] for a in analysis.values())}."]
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
                   if k not in ("agent", "before_agent", "loader", "output", "results", "baseline", "report_only", "plots") and baseline_settings.get(k) != vars(args).get(k)]
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
    lines += ["", *other_sections(path)]
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")


# The "## " sections this script writes; the others in BENCHMARKS.md (the profiler's, written by profiler_cost.py, and
# notes of other measurements) are kept as they are, after these.
OWN_SECTIONS = ("Machine and versions", "Method", "Targets", "How the cost grows", "DNS and MySQL", "Throughput and latency",
                "Cost and completeness of the agent", "Against the baseline run", "Micro-benchmarks")


def other_sections(path):
    """The lines of the sections of the existing report that this script does not write."""
    if not os.path.exists(path):
        return []
    kept, keeping = [], False
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith("## "):
                keeping = not line[3:].startswith(OWN_SECTIONS)
            if keeping:
                kept.append(line)
    return kept


def interrupt(signum, frame):
    raise KeyboardInterrupt  # tear down the pods and servers as on Ctrl-C


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="every size with every client mode, 10 s runs")
    parser.add_argument("--scenarios", nargs="+", help=f"SIZE/CLIENT items (sizes {list(SIZES)}, clients {list(CLIENTS)}, rate<N>k, pods<N>), "
                        f"{DNS_SCENARIO}, {MYSQL_SCENARIO}, {REST_SCENARIO}; replaces the default list and the curves' own scenarios")
    parser.add_argument("--states", nargs="+", default=STATES, choices=STATES + ["redonly", "serverside", "unsampled", "prometheus", *TC_STATES],
                        help="states to compare (default none idle full, plus redonly and serverside in 20B/ka50; redonly: the full agent without the call log; "
                        "serverside: the full agent observing the server's pod alone; "
                        "idle-tc, full-tc: idle and full with the capture as tc filters)")
    parser.add_argument("--call-log-per-second", type=int, help="the call log's sampling budget (CallLog:Sampling:PerSecond) in the agent states; default: the agent's")
    parser.add_argument("--call-log-at-once-per-second", type=int, help="errors and slow calls kept at once per second and budget "
                        "(CallLog:Sampling:AtOncePerSecond, 0: no bound) in the agent states; default: the agent's")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--duration", type=int, help="seconds per measured run (default 6, 10 with --full)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each measured run")
    parser.add_argument("--agent-warmup", type=int, default=3, help="seconds of wrk before each measured run with the agent or the filter attached")
    parser.add_argument("--settle", type=int, default=2, help="seconds the agent's CPU is still counted after wrk ends")
    parser.add_argument("--rates", type=int, nargs="*", default=DEFAULT_RATES, help="thousands of req/s of the rate curve's paced points "
                        f"(default {' '.join(map(str, DEFAULT_RATES))}; none: no rate curve)")
    parser.add_argument("--rate", type=int, help="the older single paced point, in req/s (0: none); replaced by --rates")
    parser.add_argument("--pods", type=int, nargs="*", default=DEFAULT_POD_COUNTS, help="client pod counts of the pods curve "
                        f"(default {' '.join(map(str, DEFAULT_POD_COUNTS))}, at most 200; none: no pods curve)")
    parser.add_argument("--no-protocols", action="store_true", help=f"skip {DNS_SCENARIO} and {MYSQL_SCENARIO}")
    parser.add_argument("--plots", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "plots"), help="where the curves' SVGs go")
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
        analysis = analyse(saved["runs"])
        write_report(args.output, settings, saved["machine"], analysis, saved.get("micro", []), baseline,
                     saved.get("command", "sudo ./build.sh --target=Benchmark" + (" --full=true" if settings.full else "")), saved["generated"],
                     draw_plots(analysis, args.plots))
        log(f"wrote {args.output}")
        return
    args.duration = args.duration or (10 if args.full else 6)
    scenarios = args.scenarios or (FULL_SCENARIOS if args.full else DEFAULT_SCENARIOS)
    if args.rate is not None:
        args.rates = [args.rate // 1000] if args.rate >= 1000 else []
    if not args.scenarios:
        scenarios = (scenarios + [f"20B/rate{rate}k" for rate in args.rates] + [f"20B/pods{count}" for count in args.pods]
                     + ([] if args.no_protocols else [DNS_SCENARIO, MYSQL_SCENARIO]) + [REST_SCENARIO])
    if any((pod_count(s) or 0) > 200 for s in scenarios):
        sys.exit("overhead.py: pods<N> takes 1 to 200 pods (one /24 for all of them)")
    if os.geteuid() != 0:
        sys.exit("overhead.py: run as root (network namespaces, eBPF)")
    tools = ["ip", "nginx", "wrk", "influxd", "curl", "dotnet", DEBIAN_PYTHON]
    if DNS_SCENARIO in scenarios:
        tools += ["dnsmasq", "dnsperf", "dig"]
    if MYSQL_SCENARIO in scenarios:
        tools += ["mariadbd", "mariadb-install-db", "mysqlslap"]
    for tool in tools:
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
        if skip or argument in ("--agent", "--loader", "--output", "--results", "--baseline", "--before-agent", "--before-commit", "--plots"):
            skip = not skip
            continue
        shown.append(argument)
    if shown and shown != ["--full"]:
        command += " (this run: overhead.py " + " ".join(shown) + ")"
    work = tempfile.mkdtemp(prefix="kubebpf-overhead-")
    bench = Bench(args, work, scenarios)
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
                   "settings": {k: v for k, v in vars(args).items() if k not in ("agent", "before_agent", "loader", "output", "results", "baseline", "plots")},
                   "micro": micro, "command": command,
                   "analysis": analysis, "runs": results}, f, indent=1)
    write_report(args.output, args, info, analysis, micro, baseline, command, generated, draw_plots(analysis, args.plots))
    if not bench.kept_logs:
        shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {args.output} and {args.results}" + (f"; logs kept in {work}" if bench.kept_logs else ""))


if __name__ == "__main__":
    main()
