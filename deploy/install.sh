#!/usr/bin/env bash
# Installs kubebpf into the cluster kubectl points at: the agent DaemonSet, InfluxDB 2.x and Grafana with the
# dashboards of grafana/dashboards. Settings come from config.ini beside this script. Safe to run again: it applies
# the same manifests and keeps the credentials it generated the first time.
#
# usage: deploy/install.sh [--config FILE] [--render-only DIR] [--timeout SECONDS]
#   --render-only DIR   write the manifests it would apply to DIR (one file per component) and apply nothing
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$here/config.ini
render_dir=
timeout=300
while (($#)); do
  case $1 in
    --config) config=${2:?--config needs a file}; shift ;;
    --render-only) render_dir=${2:?--render-only needs a folder}; shift ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift ;;
    -h | --help) sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "install.sh: $*" >&2; exit 1; }

# Reads KEY from [SECTION] of config.ini (comments and blanks ignored); fails naming the key when it is missing.
ini() {
  local value
  value=$(awk -F= -v s="[$1]" -v k="$2" '
    /^[[:space:]]*[;#]/ || /^[[:space:]]*$/ { next }
    /^[[:space:]]*\[/ { in_s = ($0 ~ "^[[:space:]]*" "\\[" substr(s, 2, length(s) - 2) "\\]") ; next }
    in_s && $1 ~ "^[[:space:]]*" k "[[:space:]]*$" { sub(/^[^=]*=[[:space:]]*/, ""); sub(/[[:space:]]*$/, ""); print; exit }' "$config")
  [[ -n $value ]] || die "$config: [$1] $2 is missing"
  printf '%s' "$value"
}

[[ -f $config ]] || die "no configuration at $config"
NAMESPACE=$(ini global NAMESPACE)
AGENT_IMAGE=$(ini global AGENT_IMAGE)
INFLUXDB_HOST=$(ini influxdb INFLUXDB_HOST)
INFLUXDB_PV_PATH=$(ini influxdb INFLUXDB_PV_PATH)
GRAFANA_HOST=$(ini grafana GRAFANA_HOST)
GRAFANA_PV_PATH=$(ini grafana GRAFANA_PV_PATH)

# Credentials: generated once, kept beside the config (mode 600) so that a second run changes nothing.
credentials=$(dirname "$config")/.kubebpf-credentials.env
if [[ ! -f $credentials ]]; then
  secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32; }
  umask 077
  cat >"$credentials" <<EOF
INFLUXDB_ADMIN_PASSWORD=$(secret)
INFLUXDB_ADMIN_TOKEN=$(secret)
AGENT_INFLUXDB_PASSWORD=$(secret)
GRAFANA_INFLUXDB_PASSWORD=$(secret)
GRAFANA_ADMIN_PASSWORD=$(secret)
EOF
fi
# shellcheck source=/dev/null
source "$credentials"

indent() { sed "s/^/$1/"; }

render_namespace() {
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NAMESPACE
EOF
}

render_rbac() {
  cat <<EOF
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kubebpf-agent
  namespace: $NAMESPACE
---
# Read-only, and only what the metadata plugin watches: no pods/exec, no secrets, no writes.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubebpf-agent
rules:
  - apiGroups: [""]
    resources: [pods, services]
    verbs: [get, list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [get, list, watch]
  - apiGroups: [apps]
    resources: [replicasets]
    verbs: [get, list, watch]
  - apiGroups: [batch]
    resources: [jobs]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubebpf-agent
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubebpf-agent
subjects:
  - kind: ServiceAccount
    name: kubebpf-agent
    namespace: $NAMESPACE
EOF
}

render_agent() {
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: kubebpf-agent-influxdb
  namespace: $NAMESPACE
type: Opaque
stringData:
  password: "$AGENT_INFLUXDB_PASSWORD"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kubebpf-agent
  namespace: $NAMESPACE
data:
  kubebpf.json: |
    {
      "Agent": { "FlushInterval": "00:00:10" },
      "Plugins": {
        "Kubernetes": { "HealthDirectory": "/run/kubebpf" },
        "Capture": { "Interfaces": [ "veth*", "cali*", "lxc*", "cni*", "gke*", "eni*" ], "PeerSideInterfaces": [ "veth*", "cali*", "lxc*", "cni*", "gke*", "eni*" ] },
        "Http": {},
        "Dns": {},
        "MySql": {},
        "Red": {},
        "ServiceMap": {},
        "Profiler": {},
        "InfluxDb": {
          "Url": "http://influxdb.$NAMESPACE.svc:8086",
          "ApiVersion": 1,
          "Database": "kubebpf",
          "RetentionPolicy": "autogen",
          "CreateDatabase": false,
          "Username": "kubebpf-agent"
        }
      }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kubebpf-agent
  namespace: $NAMESPACE
  labels: { app.kubernetes.io/name: kubebpf-agent }
spec:
  selector:
    matchLabels: { app.kubernetes.io/name: kubebpf-agent }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: 1 } }
  template:
    metadata:
      labels: { app.kubernetes.io/name: kubebpf-agent }
    spec:
      serviceAccountName: kubebpf-agent
      # The node's network namespace (its veths) and its processes (to find each pod's interface by cgroup).
      hostNetwork: true
      hostPID: true
      dnsPolicy: ClusterFirstWithHostNet
      priorityClassName: system-node-critical
      tolerations: [ { operator: Exists } ]
      terminationGracePeriodSeconds: 30
      containers:
        - name: agent
          image: $AGENT_IMAGE
          args: [ "run", "--config", "/etc/kubebpf/kubebpf.json" ]
          env:
            - name: NODE_NAME
              valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
            - name: KUBEBPF_Plugins__InfluxDb__Password
              valueFrom: { secretKeyRef: { name: kubebpf-agent-influxdb, key: password } }
          securityContext:
            privileged: false
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsUser: 0
            capabilities:
              drop: [ ALL ]
              # BPF: load the socket filter and its ring buffer. NET_RAW: the AF_PACKET sockets it attaches to.
              # SYS_PTRACE: read /proc/<pid>/root of pod processes to find their interfaces, and their memory maps
              # and binaries to name the profiler's frames. PERFMON: the profiler's per-CPU perf events and its
              # perf_event program. Measured enough on Linux 6.18: no SYS_ADMIN (nothing to mount: socket filters and
              # perf events need neither bpffs nor tracefs), no SYS_RESOURCE (since 5.11 BPF memory is charged to the
              # cgroup, not RLIMIT_MEMLOCK).
              add: [ BPF, NET_RAW, PERFMON, SYS_PTRACE ]
          resources:
            requests: { cpu: 50m, memory: 128Mi }
            limits: { cpu: "1", memory: 512Mi }
          # The agent touches /run/kubebpf/alive at every flush (10 s) and writes /run/kubebpf/ready once the
          # Kubernetes caches are listed.
          livenessProbe:
            exec: { command: [ /bin/sh, -c, "test -n \"\$(find /run/kubebpf/alive -mmin -1)\"" ] }
            initialDelaySeconds: 30
            periodSeconds: 30
          readinessProbe:
            exec: { command: [ /bin/sh, -c, "test -f /run/kubebpf/ready" ] }
            periodSeconds: 5
          volumeMounts:
            - { name: config, mountPath: /etc/kubebpf, readOnly: true }
            - { name: run, mountPath: /run/kubebpf }
            - { name: tmp, mountPath: /tmp }
      volumes:
        - name: config
          configMap: { name: kubebpf-agent }
        - name: run
          emptyDir: { medium: Memory, sizeLimit: 1Mi }
        - name: tmp
          emptyDir: { sizeLimit: 64Mi }
EOF
}

# A local persistent volume on one node's folder: name suffix, size, host folder, node.
render_local_pv() {
  cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $NAMESPACE-$1
spec:
  capacity: { storage: $2 }
  accessModes: [ ReadWriteOnce ]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: $NAMESPACE-local
  local: { path: $3 }
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions: [ { key: kubernetes.io/hostname, operator: In, values: [ $4 ] } ]
---
EOF
}

render_influxdb() {
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: influxdb-admin
  namespace: $NAMESPACE
type: Opaque
stringData:
  password: "$INFLUXDB_ADMIN_PASSWORD"
  token: "$INFLUXDB_ADMIN_TOKEN"
  agent-password: "$AGENT_INFLUXDB_PASSWORD"
  grafana-password: "$GRAFANA_INFLUXDB_PASSWORD"
---
# Runs once, when InfluxDB sets itself up on an empty volume: a write-only login for the agents, a read-only one
# for Grafana (1.x-compatible authorizations scoped to the bucket), and the DBRP mapping that lets InfluxQL find it.
apiVersion: v1
kind: ConfigMap
metadata:
  name: influxdb-setup
  namespace: $NAMESPACE
data:
  kubebpf-setup.sh: |
    #!/bin/bash
    set -euo pipefail
    bucket=\$(influx bucket list --name kubebpf --hide-headers | cut -f1)
    influx v1 auth create --username kubebpf-agent --password "\$AGENT_PASSWORD" --write-bucket "\$bucket" --description "kubebpf agents (write)"
    influx v1 auth create --username kubebpf-grafana --password "\$GRAFANA_PASSWORD" --read-bucket "\$bucket" --description "Grafana (read)"
    influx v1 dbrp create --db kubebpf --rp autogen --bucket-id "\$bucket" --default
---
EOF
  render_local_pv influxdb 20Gi "$INFLUXDB_PV_PATH" "$INFLUXDB_HOST"
  cat <<EOF
apiVersion: v1
kind: Service
metadata:
  name: influxdb
  namespace: $NAMESPACE
spec:
  selector: { app.kubernetes.io/name: influxdb }
  ports: [ { name: http, port: 8086, targetPort: 8086 } ]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: influxdb
  namespace: $NAMESPACE
spec:
  serviceName: influxdb
  replicas: 1
  selector:
    matchLabels: { app.kubernetes.io/name: influxdb }
  template:
    metadata:
      labels: { app.kubernetes.io/name: influxdb }
    spec:
      securityContext: { fsGroup: 1000 }
      containers:
        - name: influxdb
          image: influxdb:2.7
          env:
            - { name: DOCKER_INFLUXDB_INIT_MODE, value: setup }
            - { name: DOCKER_INFLUXDB_INIT_USERNAME, value: admin }
            - name: DOCKER_INFLUXDB_INIT_PASSWORD
              valueFrom: { secretKeyRef: { name: influxdb-admin, key: password } }
            - name: DOCKER_INFLUXDB_INIT_ADMIN_TOKEN
              valueFrom: { secretKeyRef: { name: influxdb-admin, key: token } }
            - { name: DOCKER_INFLUXDB_INIT_ORG, value: kubebpf }
            - { name: DOCKER_INFLUXDB_INIT_BUCKET, value: kubebpf }
            # Monitoring data expires after 2 days, so it cannot fill the disk.
            - { name: DOCKER_INFLUXDB_INIT_RETENTION, value: 2d }
            - name: AGENT_PASSWORD
              valueFrom: { secretKeyRef: { name: influxdb-admin, key: agent-password } }
            - name: GRAFANA_PASSWORD
              valueFrom: { secretKeyRef: { name: influxdb-admin, key: grafana-password } }
          ports: [ { name: http, containerPort: 8086 } ]
          readinessProbe:
            httpGet: { path: /health, port: 8086 }
            periodSeconds: 5
          livenessProbe:
            httpGet: { path: /health, port: 8086 }
            initialDelaySeconds: 30
            periodSeconds: 30
          resources:
            requests: { cpu: 100m, memory: 256Mi }
            limits: { cpu: "2", memory: 2Gi }
          volumeMounts:
            - { name: data, mountPath: /var/lib/influxdb2 }
            - { name: setup, mountPath: /docker-entrypoint-initdb.d }
      volumes:
        - name: setup
          configMap: { name: influxdb-setup, defaultMode: 0555 }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ ReadWriteOnce ]
        storageClassName: $NAMESPACE-local
        resources: { requests: { storage: 20Gi } }
EOF
}

render_grafana() {
  local file
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: grafana
  namespace: $NAMESPACE
type: Opaque
stringData:
  admin-password: "$GRAFANA_ADMIN_PASSWORD"
  influxdb-password: "$GRAFANA_INFLUXDB_PASSWORD"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: grafana-provisioning
  namespace: $NAMESPACE
data:
  datasources.yaml: |
    apiVersion: 1
    datasources:
      - name: kubebpf
        uid: kubebpf-influxdb
        type: influxdb
        access: proxy
        url: http://influxdb.$NAMESPACE.svc:8086
        database: kubebpf
        user: kubebpf-grafana
        isDefault: true
        jsonData: { httpMode: GET }
        secureJsonData: { password: \$INFLUXDB_PASSWORD }
  dashboards.yaml: |
    apiVersion: 1
    providers:
      - name: kubebpf
        folder: kubebpf
        type: file
        allowUiUpdates: false
        options: { path: /var/lib/grafana/dashboards/kubebpf }
---
# Generated from deploy/grafana/dashboards/*.json: changing a dashboard needs no image rebuild, only install.sh.
apiVersion: v1
kind: ConfigMap
metadata:
  name: grafana-dashboards
  namespace: $NAMESPACE
data:
EOF
  for file in "$here"/grafana/dashboards/*.json; do
    printf '  %s: |\n' "$(basename "$file")"
    indent '    ' <"$file"
  done
  cat <<EOF
---
EOF
  render_local_pv grafana 2Gi "$GRAFANA_PV_PATH" "$GRAFANA_HOST"
  cat <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: grafana
  namespace: $NAMESPACE
spec:
  accessModes: [ ReadWriteOnce ]
  storageClassName: $NAMESPACE-local
  volumeName: $NAMESPACE-grafana
  resources: { requests: { storage: 2Gi } }
---
apiVersion: v1
kind: Service
metadata:
  name: grafana
  namespace: $NAMESPACE
spec:
  selector: { app.kubernetes.io/name: grafana }
  ports: [ { name: http, port: 3000, targetPort: 3000 } ]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: grafana
  namespace: $NAMESPACE
spec:
  replicas: 1
  strategy: { type: Recreate }
  selector:
    matchLabels: { app.kubernetes.io/name: grafana }
  template:
    metadata:
      labels: { app.kubernetes.io/name: grafana }
    spec:
      securityContext: { fsGroup: 472, runAsUser: 472, runAsNonRoot: true }
      containers:
        - name: grafana
          image: grafana/grafana:11.3.0
          env:
            - { name: GF_SECURITY_ADMIN_USER, value: admin }
            - name: GF_SECURITY_ADMIN_PASSWORD
              valueFrom: { secretKeyRef: { name: grafana, key: admin-password } }
            - name: INFLUXDB_PASSWORD
              valueFrom: { secretKeyRef: { name: grafana, key: influxdb-password } }
          ports: [ { name: http, containerPort: 3000 } ]
          readinessProbe:
            httpGet: { path: /api/health, port: 3000 }
            periodSeconds: 5
          livenessProbe:
            httpGet: { path: /api/health, port: 3000 }
            initialDelaySeconds: 30
            periodSeconds: 30
          resources:
            requests: { cpu: 50m, memory: 128Mi }
            limits: { cpu: "1", memory: 512Mi }
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ ALL ] } }
          volumeMounts:
            - { name: data, mountPath: /var/lib/grafana }
            - { name: provisioning, mountPath: /etc/grafana/provisioning/datasources/kubebpf.yaml, subPath: datasources.yaml }
            - { name: provisioning, mountPath: /etc/grafana/provisioning/dashboards/kubebpf.yaml, subPath: dashboards.yaml }
            - { name: dashboards, mountPath: /var/lib/grafana/dashboards/kubebpf }
      volumes:
        - name: data
          persistentVolumeClaim: { claimName: grafana }
        - name: provisioning
          configMap: { name: grafana-provisioning }
        - name: dashboards
          configMap: { name: grafana-dashboards }
EOF
}

# The manifests, in apply order.
components=(namespace rbac influxdb grafana agent)
render_all() {
  local dir=$1 i=0 component
  mkdir -p "$dir"
  for component in "${components[@]}"; do
    i=$((i + 1))
    "render_$component" >"$dir/0$i-$component.yaml"
  done
}

if [[ -n $render_dir ]]; then
  render_all "$render_dir"
  echo "install.sh: manifests written to $render_dir (nothing applied); credentials in $credentials"
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
    die "$1 was not ready within ${timeout}s: see 'kubectl -n $NAMESPACE describe $1' and its pods' logs (a local volume needs its folder on the node: $2)"
  fi
}
wait_for statefulset/influxdb "$INFLUXDB_HOST:$INFLUXDB_PV_PATH"
wait_for deployment/grafana "$GRAFANA_HOST:$GRAFANA_PV_PATH"
wait_for daemonset/kubebpf-agent "none"

cat <<EOF

kubebpf is installed in namespace $NAMESPACE.
  Grafana:      kubectl -n $NAMESPACE port-forward svc/grafana 3000:3000, then open http://localhost:3000
                (user admin; dashboards in the kubebpf folder)
  Credentials:  $credentials (Grafana admin, InfluxDB admin, the agents' and Grafana's InfluxDB logins); keep it safe.
EOF
