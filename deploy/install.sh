#!/usr/bin/env bash
# Installs kubebpf into the cluster kubectl points at: the agent DaemonSet and the backend chosen in config.ini
# (bundled InfluxDB 2.x and Grafana; your Prometheus-compatible store, with a bundled Grafana; or your OTLP endpoint).
# The manifests are the templates of manifests/, filled from config.ini beside this script. Safe to run again: it
# applies the same manifests and keeps the credentials it generated the first time.
#
# usage: deploy/install.sh [--config FILE] [--render-only DIR] [--timeout SECONDS]
#   --render-only DIR   write the manifests it would apply to DIR, a new or empty folder (one file per component;
#                       the Secrets alone in 03-secrets.yaml, mode 600), and apply nothing
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the script too

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$here/config.ini
render_dir=
timeout=300
while (($#)); do
  case $1 in
    --config) config=${2:?--config needs a file}; shift ;;
    --render-only) render_dir=${2:?--render-only needs a folder}; shift ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift ;;
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "install.sh: $*" >&2; exit 1; }
# shellcheck source=lib/config.sh
source "$here/lib/config.sh"
# shellcheck source=lib/render.sh
source "$here/lib/render.sh"

# yes/no setting, as 1 or empty (a render flag).
yes_no() {
  case $(config_get "$1" "$2" "$3") in
    yes) echo 1 ;;
    no) echo ;;
    *) die "$config: [$1] $2 must be yes or no" ;;
  esac
}
# An http(s) URL setting; required unless a default (possibly empty) is given.
url() {
  local value
  value=$(config_get "$@")
  [[ -z $value || $value =~ ^https?://[^[:space:]]+$ ]] || die "$config: [$1] $2 must be an http:// or https:// URL"
  printf '%s' "$value"
}

config_load "$config"
NAMESPACE=$(config_namespace)
BACKEND=$(config_get backend BACKEND influxdb)
case $BACKEND in
  influxdb | prometheus | otlp) ;;
  *) die "$config: [backend] BACKEND must be influxdb, prometheus or otlp (found $BACKEND)" ;;
esac
metrics=$(yes_no backend METRICS_ENDPOINT no)
render_values=([NAMESPACE]=$NAMESPACE [AGENT_IMAGE]=$(config_get global AGENT_IMAGE) [STORAGE_CLASS]=$NAMESPACE-local
  [GRAFANA_PV]=$NAMESPACE-grafana [INFLUXDB_URL]=http://influxdb.$NAMESPACE.svc:8086)
render_flags=([INFLUXDB]='' [PROMETHEUS]='' [OTLP]='' [GRAFANA]='' [METRICS]=$metrics [REMOTE_WRITE]=''
  [REMOTE_WRITE_SECRET]='' [REMOTE_WRITE_BASIC_AUTH]='' [REMOTE_WRITE_BEARER]='' [OTLP_HEADERS]='' [OTLP_CALL_LOG]='')

case $BACKEND in
  influxdb)
    render_flags[INFLUXDB]=1 render_flags[GRAFANA]=1
    INFLUXDB_HOST=$(config_get influxdb INFLUXDB_HOST)
    INFLUXDB_PV_PATH=$(config_get influxdb INFLUXDB_PV_PATH)
    ;;
  prometheus)
    render_flags[PROMETHEUS]=1 render_flags[GRAFANA]=1 render_flags[METRICS]=1
    render_values[PROMETHEUS_QUERY_URL]=$(url prometheus PROMETHEUS_QUERY_URL)
    render_values[PROMETHEUS_REMOTE_WRITE_URL]=$(url prometheus PROMETHEUS_REMOTE_WRITE_URL "")
    render_values[PROMETHEUS_REMOTE_WRITE_USERNAME]=$(config_get prometheus PROMETHEUS_REMOTE_WRITE_USERNAME "")
    render_values[PROMETHEUS_REMOTE_WRITE_PASSWORD]=$(config_get prometheus PROMETHEUS_REMOTE_WRITE_PASSWORD "")
    render_values[PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN]=$(config_get prometheus PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN "")
    [[ -n ${render_values[PROMETHEUS_REMOTE_WRITE_URL]} ]] && render_flags[REMOTE_WRITE]=1
    [[ -n ${render_values[PROMETHEUS_REMOTE_WRITE_USERNAME]}${render_values[PROMETHEUS_REMOTE_WRITE_PASSWORD]} ]] && render_flags[REMOTE_WRITE_BASIC_AUTH]=1
    [[ -n ${render_values[PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN]} ]] && render_flags[REMOTE_WRITE_BEARER]=1
    if [[ -n ${render_flags[REMOTE_WRITE_BASIC_AUTH]} ]]; then
      [[ -n ${render_values[PROMETHEUS_REMOTE_WRITE_USERNAME]} && -n ${render_values[PROMETHEUS_REMOTE_WRITE_PASSWORD]} ]] ||
        die "$config: [prometheus] PROMETHEUS_REMOTE_WRITE_USERNAME and PROMETHEUS_REMOTE_WRITE_PASSWORD go together (basic auth)"
    fi
    [[ -n ${render_flags[REMOTE_WRITE_BASIC_AUTH]} && -n ${render_flags[REMOTE_WRITE_BEARER]} ]] &&
      die "$config: [prometheus] set either basic auth (PROMETHEUS_REMOTE_WRITE_USERNAME/PASSWORD) or PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN, not both"
    [[ -n ${render_flags[REMOTE_WRITE_BASIC_AUTH]}${render_flags[REMOTE_WRITE_BEARER]} && -z ${render_flags[REMOTE_WRITE]} ]] &&
      die "$config: [prometheus] remote-write credentials are set but PROMETHEUS_REMOTE_WRITE_URL is empty"
    [[ -n ${render_flags[REMOTE_WRITE_BASIC_AUTH]}${render_flags[REMOTE_WRITE_BEARER]} ]] && render_flags[REMOTE_WRITE_SECRET]=1
    ;;
  otlp)
    call_log=$(yes_no otlp OTLP_CALL_LOG no)
    render_flags[OTLP]=1 render_flags[OTLP_CALL_LOG]=$call_log
    render_values[OTLP_ENDPOINT]=$(url otlp OTLP_ENDPOINT)
    render_values[OTLP_PROTOCOL]=$(config_get otlp OTLP_PROTOCOL grpc)
    [[ ${render_values[OTLP_PROTOCOL]} == grpc || ${render_values[OTLP_PROTOCOL]} == http/protobuf ]] ||
      die "$config: [otlp] OTLP_PROTOCOL must be grpc or http/protobuf"
    render_values[OTLP_HEADERS]=$(config_get otlp OTLP_HEADERS "")
    if [[ -n ${render_values[OTLP_HEADERS]} ]]; then
      render_flags[OTLP_HEADERS]=1
      [[ ${render_values[OTLP_HEADERS]} =~ ^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$ ]] ||
        die "$config: [otlp] OTLP_HEADERS must be key=value pairs separated by commas"
    fi
    ;;
esac
if [[ -n ${render_flags[REMOTE_WRITE_SECRET]}${render_flags[OTLP_HEADERS]} && $(stat -c %a "$config") != [67]00 ]]; then
  echo "install.sh: warning: $config holds credentials and others may read it: chmod 600 $config" >&2
fi
if [[ -n ${render_flags[GRAFANA]} ]]; then
  GRAFANA_HOST=$(config_get grafana GRAFANA_HOST)
  GRAFANA_PV_PATH=$(config_get grafana GRAFANA_PV_PATH)
fi

# Credentials of the bundled InfluxDB and Grafana: generated once, kept beside the config (mode 600) so that a second
# run changes nothing. The OTLP backend bundles neither and needs none.
credentials=
if [[ -n ${render_flags[GRAFANA]} ]]; then
  credentials=$(dirname "$config")/.kubebpf-credentials.env
  generated=(INFLUXDB_ADMIN_PASSWORD INFLUXDB_ADMIN_TOKEN AGENT_INFLUXDB_PASSWORD GRAFANA_INFLUXDB_PASSWORD GRAFANA_ADMIN_PASSWORD)
  if [[ ! -f $credentials ]]; then
    secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32; }
    (
      umask 077
      for name in "${generated[@]}"; do echo "$name=$(secret)"; done >"$credentials"
    )
  fi
  # Read as KEY=value lines, never executed: a credentials file edited by hand cannot run commands.
  while IFS='=' read -r name value; do
    [[ " ${generated[*]} " == *" $name "* ]] && render_values[$name]=$value
  done < <(tr -d '\r' <"$credentials")
  for name in "${generated[@]}"; do
    [[ -n ${render_values[$name]-} ]] || die "$credentials has no $name: delete the file to generate new credentials"
  done
fi

# The Grafana dashboards of the backend's query language, as a ConfigMap (keys are the file names).
dashboards_folder=grafana/dashboards
[[ $BACKEND == prometheus ]] && dashboards_folder=grafana/dashboards-prometheus
render_dashboards() {
  local file count=0
  printf '# Generated by install.sh from deploy/%s/*.json: changing a dashboard needs no image rebuild, only install.sh.\n' "$dashboards_folder"
  printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: grafana-dashboards\n  namespace: %s\ndata:\n' "$(quote "$NAMESPACE")"
  for file in "$here/$dashboards_folder"/*.json; do
    [[ -f $file ]] || continue
    count=$((count + 1))
    printf '  %s: |\n' "$(quote "${file##*/}")"
    sed 's/^/    /' "$file"
  done
  ((count > 0)) || { printf '  {}\n'; echo "install.sh: warning: no dashboards in deploy/$dashboards_folder; Grafana gets none" >&2; }
}

# Each component's manifest, from its templates.
render_local_volume() {
  render_values[PV_NAME]=$NAMESPACE-$1 render_values[PV_SIZE]=$2 render_values[PV_PATH]=$3 render_values[PV_NODE]=$4
  echo ---
  render "$here/manifests/local-volume.yaml"
}
render_namespace() { render "$here/manifests/namespace.yaml"; }
render_rbac() { render "$here/manifests/rbac.yaml"; }
render_secrets() { render "$here/manifests/secrets.yaml"; }
render_influxdb() {
  render "$here/manifests/influxdb.yaml"
  render_local_volume influxdb 20Gi "$INFLUXDB_PV_PATH" "$INFLUXDB_HOST"
}
render_grafana() {
  render "$here/manifests/grafana.yaml"
  render_local_volume grafana 2Gi "$GRAFANA_PV_PATH" "$GRAFANA_HOST"
  render_dashboards
}
render_agent() { render "$here/manifests/agent.yaml"; }

# The manifests, in apply order; the number in a file's name is its component's, whatever the backend.
components=(01-namespace 02-rbac 03-secrets)
[[ -n ${render_flags[INFLUXDB]} ]] && components+=(04-influxdb)
[[ -n ${render_flags[GRAFANA]} ]] && components+=(05-grafana)
components+=(06-agent)

# Writes the manifests to DIR: the Secrets readable by the owner only, the rest by anyone (nothing secret in them).
render_all() {
  local dir=$1 component file
  for component in "${components[@]}"; do
    file=$dir/$component.yaml
    if [[ $component == *-secrets ]]; then
      (umask 077 && "render_${component#*-}" >"$file")
      chmod 600 "$file"
      # No backend credential and no generated one in use (OTLP without headers): no file.
      grep -q '^kind: Secret' "$file" || rm "$file"
    else
      "render_${component#*-}" >"$file"
      chmod 644 "$file"
    fi
  done
}

if [[ -n $render_dir ]]; then
  if [[ -e $render_dir ]]; then
    [[ -d $render_dir && -z $(ls -A "$render_dir") ]] || die "--render-only needs a new or empty folder: $render_dir has files (a stale manifest there would be applied with the others)"
  fi
  mkdir -p "$render_dir"
  render_all "$render_dir"
  echo "install.sh: manifests written to $render_dir (nothing applied)."
  if [[ -f $render_dir/03-secrets.yaml ]]; then
    echo "  $render_dir/03-secrets.yaml holds the Secrets (credentials in clear text, mode 600): keep it out of version control."
  fi
  [[ -z $credentials ]] || echo "  The generated passwords are kept in $credentials (mode 600), reused by every later run."
  exit 0
fi

command -v kubectl >/dev/null || die "kubectl is missing (install it and point it at the cluster)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
render_all "$work"
for file in "$work"/*.yaml; do
  kubectl apply -f "$file"
done

wait_for() {
  if ! kubectl -n "$NAMESPACE" rollout status "$1" --timeout="${timeout}s"; then
    die "$1 was not ready within ${timeout}s: see 'kubectl -n $NAMESPACE describe $1' and its pods' logs${2:+ (a local volume needs its folder on the node: $2)}"
  fi
}
[[ -n ${render_flags[INFLUXDB]} ]] && wait_for statefulset/influxdb "$INFLUXDB_HOST:$INFLUXDB_PV_PATH"
[[ -n ${render_flags[GRAFANA]} ]] && wait_for deployment/grafana "$GRAFANA_HOST:$GRAFANA_PV_PATH"
wait_for daemonset/kubebpf-agent ""

echo
echo "kubebpf is installed in namespace $NAMESPACE, sending its data to $BACKEND."
if [[ -n ${render_flags[GRAFANA]} ]]; then
  echo "  Grafana:      kubectl -n $NAMESPACE port-forward svc/grafana 3000:3000, then open http://localhost:3000"
  echo "                (user admin; dashboards in the kubebpf folder)"
fi
if [[ -n ${render_flags[METRICS]} ]]; then
  echo "  /metrics:     every node's port 9464 (pods annotated prometheus.io/scrape)"
fi
[[ -z $credentials ]] || echo "  Credentials:  $credentials (Grafana admin; with InfluxDB its admin and the agents' and Grafana's logins); keep it safe."
