#!/usr/bin/env bash
# The kubebpf demo: a Kubernetes-node-like setup on one Debian 12 machine (network-namespace "pods" on a Linux
# bridge, real nginx servers, a traffic generator, a local InfluxDB), watched by the agent. See README.md.
#
# usage: sudo samples/demo/run.sh [--duration SECONDS] [--rate REQ_PER_S] [--call-log] [--no-agent] [--no-build]
#        sudo samples/demo/run.sh --down
set -euo pipefail

demo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$demo_dir/../.." && pwd)
state=$root/.demo
# KUBEBPF_ARTIFACTS moves the build output, as for ./build.sh
agent=${KUBEBPF_ARTIFACTS:-$root/artifacts}/agent/kubebpf

bridge=kbdemo0
subnet4=10.213.0.0/24
bridge_ip4=10.213.0.1
subnet6_prefix=fd00:10:213:
netns_prefix=kbdemo-
pods=(frontend gateway api users dns db checkout)
declare -A pod_ip=([frontend]=10.213.0.10 [gateway]=10.213.0.20 [api]=10.213.0.30 [users]=10.213.0.40 [dns]=10.213.0.53 [db]=10.213.0.50 [checkout]=10.213.0.60)
declare -A pod_ip6=([frontend]=fd00:10:213::10 [gateway]=fd00:10:213::20 [api]=fd00:10:213::30 [users]=fd00:10:213::40 [dns]=fd00:10:213::53 [db]=fd00:10:213::50 [checkout]=fd00:10:213::60)
declare -A pod_name=([frontend]=frontend-6f7c9d8b5-q2x4m [gateway]=gateway-5b8d7f6c4-k9z3p [api]=api-7c6d5b9f8-m4n8r [users]=users-0 [dns]=coredns-7db6d8ff4d-x8q2n [db]=db-0 [checkout]=checkout-8d4f7b6c9-w5t2n)
declare -A pod_kind=([frontend]=Deployment [gateway]=Deployment [api]=Deployment [users]=StatefulSet [dns]=Deployment [db]=StatefulSet [checkout]=Deployment)
slow_port=9000
slow_ms=200
db_port=3306

duration=0
rate=50
call_log=false
run_agent=1
build=1
only_down=0

if [[ -t 2 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '%sdemo:%s %s\n' "$bold" "$plain" "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  cat <<'EOF'

  --duration N   stop by itself after N seconds (default: run until Ctrl-C)
  --rate N       requests per second the traffic generator aims at (default 50)
  --call-log     also print every HTTP call (the console sink's ShowCallLog)
  --no-agent     set up pods, servers, InfluxDB and traffic, but do not build or run the agent
  --no-build     run the agent already published in artifacts/agent
  --down         only tear down what a previous run left behind
EOF
}

while (($#)); do
  case $1 in
    --duration) duration=${2:?--duration needs a number of seconds}; shift ;;
    --rate) rate=${2:?--rate needs a number}; shift ;;
    --call-log) call_log=true ;;
    --no-agent) run_agent=0 ;;
    --no-build) build=0 ;;
    --down) only_down=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
[[ $duration =~ ^[0-9]+$ ]] || die "--duration takes whole seconds, not '$duration'"
[[ $rate =~ ^[1-9][0-9]*$ ]] || die "--rate takes a positive whole number, not '$rate'"
((EUID == 0)) || die "run as root (network namespaces, veths and the eBPF probes need it): sudo $0 $*"

# ---------------------------------------------------------------------------------------------------------------
# Teardown: everything is found by name or by pid file, so it also cleans up after a crashed or killed run.

# Kills a process recorded in a pid file, if it is still the one we started (its command line names the state folder).
stop_pidfile() {
  local file=$1 pid
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  local ns link pids
  stop_pidfile "$state/agent.pid" "$state/kubebpf.json"
  stop_pidfile "$state/influxdb.pid" "$state/influxdb.conf"
  for ns in $(ip netns list 2>/dev/null | awk -v p="$netns_prefix" 'index($1, p) == 1 {print $1}'); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [[ -n $pids ]]; then
      # shellcheck disable=SC2086 # one pid per word
      kill -TERM $pids 2>/dev/null || true
      sleep 0.5
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      # shellcheck disable=SC2086
      [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
    fi
    ip netns delete "$ns"
    rm -rf "/etc/netns/$ns"
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -E '^vethkb-' || true); do
    ip link delete "$link" 2>/dev/null || true
  done
  if ip link show "$bridge" >/dev/null 2>&1; then
    ip link delete "$bridge"
  fi
}

if ((only_down)); then
  down
  say "torn down: no ${netns_prefix}* namespaces, vethkb-* links, $bridge bridge or demo processes are left"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
# Set-up

need() { command -v "$1" >/dev/null || die "'$1' is missing: run ./build.sh once as root, it installs what the demo needs"; }
for command in ip nginx python3 curl influxd shuf dnsmasq getent mariadbd mariadb-install-db gcc; do need "$command"; done

# One demo at a time: a second one would tear the first one's pods down as leftovers. Only this script holds the lock:
# every server and background process it starts gets "9>&-", so that those outliving an interrupted teardown (or the
# build's own servers) do not keep the next run out.
# The servers also get a session of their own (setsid), out of the process group that the terminal's Ctrl-C reaches:
# on Ctrl-C the script stops the agent first, whose last flush still reaches InfluxDB, then the servers.
exec 9>/run/kubebpf-demo.lock
flock -n 9 || die "another demo is running (see /run/kubebpf-demo.lock); stop it first, or tear it down with --down"

say "cleaning up leftovers of earlier runs"
down

if ((run_agent && build)); then
  say "building and publishing the agent (./build.sh --target=Publish)"
  "$root/build.sh" --target=Publish 9>&-
fi
if ((run_agent)) && [[ ! -x $agent ]]; then
  die "$agent does not exist: run ./build.sh --target=Publish, or drop --no-build"
fi

if route=$(ip -4 route show "$subnet4" 2>/dev/null) && [[ -n $route ]]; then
  die "$subnet4 is already routed on this machine ($route); the demo would collide with it"
fi

rm -rf "$state"
mkdir -p "$state"

agent_pid=
on_exit() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $agent_pid ]] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  summary || true
  say "tearing down the pods, the bridge and the servers"
  down
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "creating bridge $bridge ($subnet4, ${subnet6_prefix}:/64) and pods: ${pods[*]}"
ip link add "$bridge" type bridge
ip addr add "$bridge_ip4/24" dev "$bridge"
ip -6 addr add "${subnet6_prefix}:1/64" dev "$bridge" nodad
ip link set "$bridge" up
for pod in "${pods[@]}"; do
  ns=$netns_prefix$pod
  host_if=vethkb-$pod
  ip netns add "$ns"
  ip link add "$host_if" type veth peer name eth0 netns "$ns"
  ip link set "$host_if" master "$bridge" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "${pod_ip[$pod]}/24" dev eth0
  ip -n "$ns" -6 addr add "${pod_ip6[$pod]}/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
done

# nginx: one instance per serving pod, with its own prefix, logs and temp folders under .demo/pods/<pod>/.
write_nginx_conf() {
  local pod=$1 listen=$2 upstreams=$3 dir=$state/pods/$1 locations
  locations=$(cat)
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
# Generated by samples/demo/run.sh for the $pod pod.
daemon on;
worker_processes 1;
user nobody nogroup;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 512; }
http {
  log_format demo '\$time_iso8601 \$remote_addr "\$request" \$status \$body_bytes_sent \$request_time';
  access_log $dir/access.log demo;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  default_type application/json;
  keepalive_timeout 30s;
  keepalive_requests 10000;
$upstreams
  server {
    listen $listen;
    listen [::]:$listen;
    location = /healthz { access_log off; return 204; }
$locations
  }
}
EOF
}

write_nginx_conf gateway 80 "
  upstream api { server ${pod_ip[api]}:8080; keepalive 8; }
  upstream users { server ${pod_ip[users]}:8080; keepalive 8; }" <<'EOF'
    location = / { return 200 '{"service": "gateway", "routes": ["/api/", "/users/"]}\n'; }
    location /api/ { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /users/ { proxy_pass http://users; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location / { return 404 '{"error": "no route"}\n'; }
EOF

write_nginx_conf api 8080 "" <<EOF
    location = /api/orders {
      if (\$request_method = POST) { return 201 '{"id": 1234, "status": "created"}\n'; }
      return 200 '[{"id": 1, "status": "shipped"}, {"id": 2, "status": "open"}]\n';
    }
    location ~ ^/api/orders/[0-9]+\$ { return 200 '{"id": 42, "status": "shipped"}\n'; }
    location = /api/cart { return 204; }
    location = /api/fail { return 500 '{"error": "internal error"}\n'; }
    location = /api/busy { return 503 '{"error": "overloaded, retry later"}\n'; }
    location = /api/slow { proxy_pass http://127.0.0.1:$slow_port; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location / { return 404 '{"error": "not found"}\n'; }
EOF

write_nginx_conf users 8080 "" <<'EOF'
    location ~ ^/users/9[0-9][0-9]$ { return 404 '{"error": "no such user"}\n'; }
    location ~ ^/users/[0-9]+$ { return 200 '{"id": 7, "name": "Ada", "plan": "pro"}\n'; }
    location / { return 404 '{"error": "not found"}\n'; }
EOF

say "starting nginx in gateway, api and users, and a ${slow_ms} ms backend behind /api/slow"
for pod in gateway api users; do
  setsid ip netns exec "$netns_prefix$pod" nginx -q -p "$state/pods/$pod" -c "$state/pods/$pod/nginx.conf" 9>&- \
    || die "nginx did not start in $pod: see $state/pods/$pod/error.log"
done
setsid ip netns exec "${netns_prefix}api" python3 "$demo_dir/slow_backend.py" "$slow_port" "$slow_ms" \
  >"$state/pods/api/slow_backend.log" 2>&1 9>&- &

# The resolver pod: dnsmasq answering for the cluster's names (and one "external" name) as CoreDNS would, every query
# logged; the frontend pod resolves through it with a Kubernetes pod's resolv.conf (search path, ndots:5), which
# ip netns exec mounts over /etc/resolv.conf for the processes it starts.
say "starting dnsmasq in dns (the pods' resolver, like CoreDNS)"
mkdir -p "$state/pods/dns"
cat >"$state/pods/dns/dnsmasq.conf" <<EOF
# Generated by samples/demo/run.sh for the dns pod.
no-resolv
no-hosts
user=root
listen-address=${pod_ip[dns]}
bind-interfaces
local=/cluster.local/
local=/example.com/
host-record=gateway.shop.svc.cluster.local,${pod_ip[gateway]}
host-record=api.shop.svc.cluster.local,${pod_ip[api]}
host-record=users.shop.svc.cluster.local,${pod_ip[users]},${pod_ip6[users]}
host-record=www.example.com,192.0.2.80
log-queries
log-facility=$state/pods/dns/queries.log
pid-file=
EOF
setsid ip netns exec "${netns_prefix}dns" dnsmasq --keep-in-foreground --conf-file="$state/pods/dns/dnsmasq.conf" \
  >"$state/pods/dns/dnsmasq.out" 2>&1 9>&- &
mkdir -p "/etc/netns/${netns_prefix}frontend"
printf 'nameserver %s\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' "${pod_ip[dns]}" \
  >"/etc/netns/${netns_prefix}frontend/resolv.conf"

# The CPU-hungry pod: a C service built with frame pointers, for the profiler's flame graph.
say "starting the CPU-hungry checkout service in the checkout pod"
mkdir -p "$state/pods/checkout"
gcc -O1 -fno-omit-frame-pointer "$demo_dir/checkout.c" -o "$state/pods/checkout/checkout" || die "cannot build samples/demo/checkout.c"
setsid ip netns exec "${netns_prefix}checkout" "$state/pods/checkout/checkout" 9>&- &

# Wait until every server answers from the client pod, over the bridge like all demo traffic.
wait_http() {
  local url=$1
  for _ in $(seq 50); do
    ip netns exec "${netns_prefix}frontend" curl -sf -o /dev/null -m 1 "$url" && return 0
    sleep 0.2
  done
  die "$url does not answer from the frontend pod"
}
wait_http "http://${pod_ip[gateway]}/healthz"
wait_http "http://${pod_ip[api]}:8080/healthz"
wait_http "http://[${pod_ip6[users]}]:8080/healthz"
wait_http "http://${pod_ip[gateway]}/api/slow"
for _ in $(seq 50); do
  ip netns exec "${netns_prefix}frontend" getent hosts gateway >/dev/null && break
  sleep 0.2
done
ip netns exec "${netns_prefix}frontend" getent hosts gateway >/dev/null || die "dnsmasq does not answer: see $state/pods/dns/dnsmasq.out"

# MariaDB in the db pod (its own data directory under .demo/pods/db), and the api pod's order worker querying it.
say "starting MariaDB in db (port $db_port, general log in .demo/pods/db/general.log) and the api pod's order worker"
mkdir -p "$state/pods/db"
mariadb-install-db --no-defaults --datadir="$state/pods/db/data" --user=root --auth-root-authentication-method=normal \
  --skip-test-db >"$state/pods/db/install.log" 2>&1 9>&- || die "mariadb-install-db failed: see $state/pods/db/install.log"
setsid ip netns exec "${netns_prefix}db" mariadbd --no-defaults --datadir="$state/pods/db/data" --socket="$state/pods/db/mariadb.sock" \
  --port="$db_port" --bind-address=0.0.0.0 --user=root --pid-file="$state/pods/db/mariadb.pid" --log-error="$state/pods/db/error.log" \
  --general-log=1 --general-log-file="$state/pods/db/general.log" --skip-name-resolve --skip-log-bin >/dev/null 2>&1 9>&- &
for _ in $(seq 100); do
  [[ -S $state/pods/db/mariadb.sock ]] && break
  sleep 0.2
done
mariadb --no-defaults --socket="$state/pods/db/mariadb.sock" -u root -e "
  CREATE USER app@'%'; GRANT ALL ON shop.* TO app@'%'; CREATE DATABASE shop; USE shop;
  CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(32), total INT);
  INSERT INTO orders (customer, total) SELECT CONCAT('cust-', seq % 50), seq % 300 FROM seq_1_to_500;" \
  || die "MariaDB did not start in db: see $state/pods/db/error.log"
setsid ip netns exec "${netns_prefix}api" /usr/bin/python3 "$demo_dir/orders_worker.py" "${pod_ip[db]}" "$db_port" 5 \
  >"$state/pods/api/orders_worker.log" 2>&1 9>&- &

# InfluxDB 1.x on loopback: 8086 unless taken, then the next free port.
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
influx_port=8086
while ! port_free "$influx_port" || ! port_free $((influx_port + 2)); do influx_port=$((influx_port + 10)); done
mkdir -p "$state/influxdb"
cat >"$state/influxdb.conf" <<EOF
# Generated by samples/demo/run.sh: the demo's InfluxDB, on loopback only.
reporting-disabled = true
bind-address = "127.0.0.1:$((influx_port + 2))"
[meta]
  dir = "$state/influxdb/meta"
[data]
  dir = "$state/influxdb/data"
  wal-dir = "$state/influxdb/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$influx_port"
  log-enabled = false
[monitor]
  store-enabled = false
EOF
say "starting InfluxDB on 127.0.0.1:$influx_port (data in .demo/influxdb)"
setsid influxd -config "$state/influxdb.conf" >"$state/influxdb.log" 2>&1 9>&- &
echo $! >"$state/influxdb.pid"
for _ in $(seq 100); do
  curl -s -o /dev/null -m 1 "http://127.0.0.1:$influx_port/ping" && break
  sleep 0.2
done
curl -sf -o /dev/null -m 5 "http://127.0.0.1:$influx_port/query" \
  --data-urlencode "q=CREATE DATABASE kubebpf WITH DURATION 2d REPLICATION 1 NAME kubebpf_2d" \
  || die "InfluxDB did not start: see $state/influxdb.log"

# The static metadata file: the pods as a Kubernetes API would describe them, by host-side veth and address.
{
  echo "# Generated by samples/demo/run.sh: the demo's pods for the static metadata plugin."
  echo "workloads:"
  for pod in "${pods[@]}"; do
    workload=$pod
    cat <<EOF
  - namespace: shop
    pod: ${pod_name[$pod]}
    workload: { kind: ${pod_kind[$pod]}, name: $workload }
    service: $([[ $pod == frontend ]] || echo "$pod")
    node: $(hostname)
    labels: { app: $pod, demo: kubebpf }
    interfaces: [vethkb-$pod]
    ips: [${pod_ip[$pod]}, "${pod_ip6[$pod]}"]
EOF
  done
} >"$state/workloads.yaml"

cat >"$state/kubebpf.json" <<EOF
{
  "Agent": {
    "FlushInterval": "00:00:05"
  },
  "Plugins": {
    "StaticMetadata": { "File": "$state/workloads.yaml" },
    "Capture": { "Interfaces": [ "vethkb-*" ] },
    "Http": {},
    "Dns": {},
    "MySql": {},
    "Red": { "CallLog": { "Sampling": { "Enabled": $([ "$call_log" = true ] && echo false || echo true) } } },
    "ServiceMap": { "SnapshotFile": "$state/service-map.json" },
    "InfluxDb": {
      "Url": "http://127.0.0.1:$influx_port",
      "ApiVersion": 1,
      "Database": "kubebpf",
      "RetentionPolicy": "kubebpf_2d",
      "RetentionDuration": "2d"
    },
    "Console": { "ShowCallLog": $call_log, "MaxRows": 100 }
  },
  "Logging": {
    "LogLevel": { "Default": "Information", "Microsoft": "Warning", "System": "Warning" }
  }
}
EOF

summary() {
  [[ -f $state/traffic.log ]] || return 0
  local total
  total=$(grep -cE '^[0-9]{3} ' "$state/traffic.log" || true)
  ((total > 0)) || return 0
  say "traffic sent $total requests; status mix seen by the client (000: no answer):"
  grep -oE '^[0-9]{3} ' "$state/traffic.log" | sort | uniq -c | awk -v t="$total" '{printf "    %s  %6d  %5.1f%%\n", $2, $1, 100 * $1 / t}' >&2
  for pod in gateway api users; do
    [[ -f $state/pods/$pod/access.log ]] && say "$pod access log: $(wc -l <"$state/pods/$pod/access.log") requests ($state/pods/$pod/access.log)"
  done
  [[ -f $state/pods/dns/queries.log ]] && say "dns query log: $(grep -c ' query\[' "$state/pods/dns/queries.log") queries ($state/pods/dns/queries.log)"
  if [[ -f $state/checkout-flamegraph.svg ]]; then
    say "CPU flame graph of the checkout pod: open $state/checkout-flamegraph.svg in a browser"
  fi
  if [[ -f $state/service-map.json ]]; then
    say "the service map the agent drew (also as Mermaid in .demo/service-map.mmd and Graphviz in .demo/service-map.dot):"
    "$agent" map --config "$state/kubebpf.json" >&2 || true
    "$agent" map --config "$state/kubebpf.json" --format mermaid >"$state/service-map.mmd" || true
    "$agent" map --config "$state/kubebpf.json" --format dot >"$state/service-map.dot" || true
  fi
  if [[ -n ${influx_port:-} ]]; then
    say "data: InfluxDB database 'kubebpf' (retention policy kubebpf_2d, 2 days) in $state/influxdb"
    say "to look at it after the demo, start that InfluxDB again and query it:"
    echo "    influxd -config $state/influxdb.conf >/dev/null 2>&1 &" >&2
    echo "    influx -port $influx_port -database kubebpf -execute 'SELECT workload, direction, method, route, rate, errors_4xx, errors_5xx, latency_p99_ms FROM kubebpf_2d.http_red WHERE time > now() - 1h'" >&2
    echo "    influx -port $influx_port -database kubebpf -execute 'SELECT pod, direction, statement_type, fingerprint, requests, errors, latency_p99_ms FROM kubebpf_2d.mysql_red WHERE time > now() - 1h'" >&2
  fi
}

if ((run_agent)); then
  # One command profiles a pod: 20 s of the checkout pod, as an SVG a browser opens.
  say "recording the checkout pod's CPU flame graph for 20 s into .demo/checkout-flamegraph.svg (log in .demo/profile.log):"
  echo "    $agent profile --config .demo/kubebpf.json --pod 'checkout-*' --duration 00:00:20 -o .demo/checkout-flamegraph.svg" >&2
  "$agent" profile --config "$state/kubebpf.json" --pod 'checkout-*' --duration 00:00:20 -o "$state/checkout-flamegraph.svg" \
    >"$state/profile.log" 2>&1 9>&- &
  say "starting the agent: $agent run --config .demo/kubebpf.json"
  say "the service map, in another terminal: sudo $agent map --config .demo/kubebpf.json (--format mermaid or dot for a picture)"
  "$agent" run --config "$state/kubebpf.json" 9>&- &
  agent_pid=$!
  echo "$agent_pid" >"$state/agent.pid"
  # The traffic starts once the agent observes the pods (its first flush writes the service map), so that its map
  # counts every request the generator sends.
  for _ in $(seq 60); do
    [[ -f $state/service-map.json ]] || ! kill -0 "$agent_pid" 2>/dev/null && break
    sleep 0.5
  done
fi

traffic_seconds=$((duration > 0 ? duration : 3600))
say "traffic: about $rate req/s from frontend to gateway (and users over IPv6) for up to ${traffic_seconds}s; log in .demo/traffic.log"
ip netns exec "${netns_prefix}frontend" "$demo_dir/traffic.sh" "http://${pod_ip[gateway]}" "http://[${pod_ip6[users]}]:8080" \
  "$rate" "$traffic_seconds" 1000000 >"$state/traffic.log" 2>&1 9>&- &
traffic_pid=$!

# Wait for Ctrl-C, the duration, or the agent's end. Without the agent, print the traffic's status mix every 10 s.
started=$SECONDS
while ((duration == 0 || SECONDS - started < duration)); do
  if [[ -n $agent_pid ]] && ! kill -0 "$agent_pid" 2>/dev/null; then
    wait "$agent_pid" && agent_status=0 || agent_status=$?
    agent_pid=
    die "the agent stopped (exit code $agent_status)"
  fi
  sleep 1
  if ((!run_agent && (SECONDS - started) % 10 == 0)); then
    say "requests by status so far: $(grep -oE '^[0-9]{3} ' "$state/traffic.log" | sort | uniq -c | awk '{printf "%s: %d  ", $2, $1}')"
  fi
done
say "--duration $duration reached"
# The generator's last batch ends before the agent's last flush, so that the map holds every request it sent.
for _ in $(seq 50); do kill -0 "$traffic_pid" 2>/dev/null || break; sleep 0.1; done
