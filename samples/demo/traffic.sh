#!/usr/bin/env bash
# The demo's traffic generator, run inside the frontend pod by run.sh: batches of 100 requests over a fixed,
# weighted mix of URLs in random order (curl reuses its connections within a batch), paced to about RATE requests
# per second, until MAX_SECONDS or MAX_REQUESTS is reached. Prints one line per request: "status method url".
# Each batch also resolves three names through the pod's resolv.conf (search path, ndots:5), as an application would:
# a cluster service (found at the first candidate), an external name (three search-path candidates answered NXDOMAIN
# first) and a name that exists nowhere.
# usage: traffic.sh GATEWAY_URL USERS_V6_URL RATE MAX_SECONDS MAX_REQUESTS
set -euo pipefail

gateway=$1 users_v6=$2 rate=$3 max_seconds=$4 max_requests=$5
batch_file=$(mktemp)
trap 'rm -f "$batch_file"' EXIT

# weight method url: {id} becomes a random user or order id, {missing} an id the users service does not know.
# Expected statuses: 200 72%, 201 8%, 204 5%, 404 8%, 500 4%, 503 3%; /api/slow takes 200 ms.
mix=(
  "20 GET $gateway/"
  "20 GET $gateway/api/orders"
  "8 POST $gateway/api/orders"
  "5 DELETE $gateway/api/cart"
  "12 GET $gateway/api/orders/{id}"
  "12 GET $gateway/users/{id}"
  "4 GET $gateway/users/{missing}"
  "4 GET $gateway/api/nothing-here"
  "4 GET $gateway/api/fail"
  "3 GET $gateway/api/busy"
  "4 GET $gateway/api/slow"
  "4 GET $users_v6/users/{id}"
)

requests() {
  local entry weight method template url i
  for entry in "${mix[@]}"; do
    read -r weight method template <<<"$entry"
    for ((i = 0; i < weight; i++)); do
      url=${template//\{id\}/$((RANDOM % 899 + 1))}
      echo "$method ${url//\{missing\}/$((RANDOM % 100 + 900))}"
    done
  done | shuf
}

curl_config() {
  local method url first=1
  while read -r method url; do
    # "next" separates operations; a trailing one would leave an empty operation curl complains about.
    ((first)) || printf 'next\n'
    first=0
    printf 'url = "%s"\nrequest = "%s"\noutput = "/dev/null"\nmax-time = 5\n' "$url" "$method"
    printf 'write-out = "%%{http_code} %%{method} %%{url}\\n"\n'
    if [[ $method == POST ]]; then
      printf 'data = "{\\"item\\": %d, \\"quantity\\": 1}"\nheader = "Content-Type: application/json"\n' "$((RANDOM % 50))"
    fi
  done
}

sent=0
start=$SECONDS
batch_ns=$((100 * 1000000000 / rate))
while ((SECONDS - start < max_seconds && sent < max_requests)); do
  began=$(date +%s%N)
  requests | curl_config >"$batch_file"
  getent hosts gateway >/dev/null || true
  getent hosts www.example.com >/dev/null || true
  getent hosts old-service >/dev/null || true
  # A failed request prints status 000 and the batch goes on.
  curl --silent --config "$batch_file" || true
  sent=$((sent + 100))
  left_ns=$((batch_ns - ($(date +%s%N) - began)))
  if ((left_ns > 0)); then
    sleep "$((left_ns / 1000000000)).$(printf '%09d' $((left_ns % 1000000000)))"
  fi
done
