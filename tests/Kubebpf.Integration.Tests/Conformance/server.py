"""Conformance server: answers each request of the corpus with its entry's canned response.

argv: plan.json port answered.log. Requests are read in order on each connection and framed as RFC 9112 says
(empty lines before the request line skipped; Content-Length or chunked body, trailers included); each is looked up
by its exact bytes, answered with one write, and its entry id appended to the log (the ground truth). An entry marked
"last" closes the connection after its answer (an empty answer: closes without answering); one marked "hold" is
logged as "held <id>" and answered once the file answered.log.release exists. An unknown request is logged as
"unknown" and its connection closed.
"""
import base64
import json
import os
import socket
import sys
import threading
import time


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def take(self, count):
        while len(self.buffer) < count:
            self.fill()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def line(self):
        while (end := self.buffer.find(b"\n")) < 0:
            self.fill()
        return self.take(end + 1)

    def skip_empty_lines(self):
        while True:
            while len(self.buffer) < 2:
                if self.buffer[:1] not in (b"", b"\r"):
                    break
                self.fill()
            if self.buffer.startswith(b"\r\n"):
                self.buffer = self.buffer[2:]
            elif self.buffer.startswith(b"\n"):
                self.buffer = self.buffer[1:]
            else:
                return

    def request(self):
        """The next request's bytes, without the empty lines before it."""
        self.skip_empty_lines()
        raw = self.line()
        length, chunked = 0, False
        while (line := self.line()).rstrip(b"\r\n"):
            raw += line
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value.split(b",")[-1].strip().lower() == b"chunked"
        raw += line
        if not chunked:
            return raw + self.take(length)
        while True:
            size_line = self.line()
            raw += size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                break
            raw += self.take(size) + self.line()
        while (trailer := self.line()).rstrip(b"\r\n"):
            raw += trailer
        return raw + trailer


def strip_empty_lines(data):
    while data.startswith((b"\r\n", b"\n")):
        data = data[2:] if data.startswith(b"\r\n") else data[1:]
    return data


def record(log, lock, line):
    with lock:
        log.write(line + "\n")
        log.flush()


def serve(sock, answers, log, lock):
    connection = Connection(sock)
    with sock:
        while True:
            try:
                request = connection.request()
            except (EOFError, ConnectionError, ValueError):
                return
            answer = answers.get(request)
            if answer is None:
                record(log, lock, f"unknown {request[:200]!r}")
                return
            if answer[3]:
                record(log, lock, f"held {answer[0]}")
                while not os.path.exists(log.name + ".release"):
                    time.sleep(0.02)
            sock.sendall(answer[1])
            record(log, lock, f"{answer[0]}")
            if answer[2]:
                sock.shutdown(socket.SHUT_WR)
                return


def main():
    plan_path, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(plan_path, encoding="ascii") as f:
        plan = json.load(f)
    answers = {}
    for entry in plan["entries"]:
        key = strip_empty_lines(base64.b64decode(entry["request"]))
        answers[key] = (entry["id"], base64.b64decode(entry["response"]), entry["last"], entry.get("hold", False))
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("::", port))
    listener.listen(64)
    lock = threading.Lock()
    with open(log_path, "a", encoding="ascii") as log:
        while True:
            sock, _ = listener.accept()
            threading.Thread(target=serve, args=(sock, answers, log, lock), daemon=True).start()


main()
