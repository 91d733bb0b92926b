#!/usr/bin/env python3
"""Bounded overload of a `quiver serve` on loopback: many concurrent clients for a few seconds.

Each of --concurrency threads posts /v1/embeddings (--inputs texts per request) in a loop until
--duration seconds pass or --max-requests requests were sent in all; then one GET /health.
Prints JSON: {"statuses": {"200": n, "429": m, ...}, "transport_errors": k,
"missing_retry_after": j, "health": status}. Loopback addresses only.

  python3 scripts/serve/overload.py --url http://127.0.0.1:8080 [--concurrency 48] [--duration 3]
"""
import argparse
import collections
import http.client
import ipaddress
import json
import socket
import sys
import threading
import time
import urllib.parse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--concurrency", type=int, default=48)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--max-requests", type=int, default=5000)
    p.add_argument("--inputs", type=int, default=8)
    p.add_argument("--api-key")
    args = p.parse_args()
    url = urllib.parse.urlparse(args.url)
    host, port = url.hostname, url.port or 80
    if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
        sys.exit("refusing a non-loopback target: " + host)
    headers = {"Content-Type": "application/json"}
    if args.api_key:
        headers["Authorization"] = "Bearer " + args.api_key

    lock = threading.Lock()
    statuses = collections.Counter()
    counters = {"sent": 0, "transport_errors": 0, "missing_retry_after": 0}
    deadline = time.monotonic() + args.duration

    def worker(n):
        conn = None
        i = 0
        while time.monotonic() < deadline:
            with lock:
                if counters["sent"] >= args.max_requests:
                    return
                counters["sent"] += 1
            texts = ["client %d request %d input %d" % (n, i, j) for j in range(args.inputs)]
            i += 1
            try:
                conn = conn or http.client.HTTPConnection(host, port, timeout=30)
                conn.request("POST", "/v1/embeddings", json.dumps({"input": texts}), headers)
                response = conn.getresponse()
                response.read()
                with lock:
                    statuses[str(response.status)] += 1
                    if response.status == 429 and response.getheader("Retry-After") is None:
                        counters["missing_retry_after"] += 1
            except (OSError, http.client.HTTPException):
                with lock:
                    counters["transport_errors"] += 1
                conn = None

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/health")
    health = conn.getresponse().status
    print(json.dumps({"statuses": dict(statuses), "transport_errors": counters["transport_errors"],
                      "missing_retry_after": counters["missing_retry_after"], "health": health}))


if __name__ == "__main__":
    main()
