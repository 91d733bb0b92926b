"""Markdown summary of Benchmarks/server/run.sh: HTTP vs in-process, from the four JSON results.

Usage: python3 Benchmarks/server/summary.py Benchmarks/results/server > Benchmarks/results/server.md
"""
import json
import sys


def load(prefix, name):
    with open(f"{prefix}-{name}.json") as f:
        return json.load(f)


def policy(result):
    return result["policies"][0]


def single(result):
    """The closed-loop run's latency percentiles (ms) and throughput."""
    run = policy(result)["runs"][0]
    return run["latency_ms"], run["throughput"]


def load_range(result):
    """Lowest and highest 1-minute load average seen at the start or end of any run."""
    values = [v for run in policy(result)["runs"] for v in run.get("load_average", [])]
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def main(prefix):
    http, local = load(prefix, "http"), load(prefix, "inprocess")
    http_rate, local_rate = policy(http)["max_sustainable_rate"], policy(local)["max_sustainable_rate"]
    (http_lat, http_tp), (local_lat, local_tp) = single(load(prefix, "http-single")), single(load(prefix, "inprocess-single"))
    print(f"# quiver serve vs in-process engine: embed, {local['model']}, p99 target {local['latency_target_ms']} ms\n")
    print(f"{local['backend']} · {local['cores']} cores · {local['date']} · generated short queries\n")
    print("| | HTTP (`quiver bench --url`) | in process | HTTP / in process |")
    print("|---|---:|---:|---:|")
    ratio = http_rate / local_rate if local_rate else float("nan")
    print(f"| max sustainable rate (req/s, p99 ≤ target) | {http_rate:.0f} | {local_rate:.0f} | {ratio:.2f}× |")
    for p in ("p50", "p90", "p99"):
        d = http_lat[p] - local_lat[p]
        print(f"| single request {p} (ms, one client) | {http_lat[p]:.2f} | {local_lat[p]:.2f} | +{d:.2f} ms |")
    print(f"| single client throughput (req/s) | {http_tp:.0f} | {local_tp:.0f} | |")
    print("| load average during the runs (1 min) | "
          + " | ".join("{:.2f}–{:.2f}".format(*load_range(r)) for r in (http, local)) + " | |")
    client = http.get("settings", {}).get("connections")
    print()
    print(f"HTTP client: SwiftNIO HTTP/1.1, keep-alive, up to {client or '?'} connections. "
          f"OPENBLAS_CORETYPE={local.get('settings', {}).get('openblas_coretype', '?')}.\n")
    print("Issue 7's bar: HTTP throughput at the same p99 target ≥ 0.9× in process, single-request "
          "overhead ≤ 1 ms (p50 difference above).")


if __name__ == "__main__":
    main(sys.argv[1])
