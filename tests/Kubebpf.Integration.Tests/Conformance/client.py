"""Conformance client: sends the corpus's requests as its plan groups them and checks every response byte.

argv: plan.json ipv4 ipv6 port. Connections alternate between the server's IPv4 and IPv6 addresses. A kept-alive
connection sends one request at a time and reads its response; a pipelined one sends all its requests in one write,
then reads all the responses. A response the server ends by closing is read until the close. Exits 1, naming the
entries, when any response differs from the corpus.
"""
import base64
import json
import socket
import sys


def receive(sock, expected, until_close):
    data = b""
    while len(data) < len(expected) or until_close:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def main():
    plan_path, ipv4, ipv6, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(plan_path, encoding="ascii") as f:
        plan = json.load(f)
    entries = {e["id"]: e for e in plan["entries"]}
    failures = []
    for index, connection in enumerate(plan["connections"]):
        members = [entries[i] for i in connection["entries"]]
        exchanges = [(e["id"], base64.b64decode(e["request"]), base64.b64decode(e["response"]), e["last"]) for e in members]
        if connection["pipelined"]:
            exchanges = [(exchanges[0][0], b"".join(x[1] for x in exchanges), b"".join(x[2] for x in exchanges), exchanges[-1][3])]
        with socket.create_connection((ipv4 if index % 2 == 0 else ipv6, port), timeout=30) as sock:
            for entry_id, request, response, last in exchanges:
                sock.sendall(request)
                received = receive(sock, response, last)
                if received != response:
                    failures.append(f"connection {index} (entry {entry_id}): expected {response[:120]!r}..., received {received[:120]!r}...")
                    break
    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


main()
