"""Markdown summary of Benchmarks/server/run.sh: HTTP vs in-process, medians over its rounds
(the throughput ratio is the median of each round's HTTP / in-process ratio).

Usage: python3 Benchmarks/server/summary.py Benchmarks/results/server ROUNDS > Benchmarks/results/server.md
"""
import json
import statistics
import sys


def load(prefix, name, round_):
    with open(f"{prefix}-{name}-r{round_}.json") as f:
        return json.load(f)


def policy(result):
    return result["policies"][0]


def single(result):
    """The closed-loop run's latency percentiles (ms) and throughput."""
    run = policy(result)["runs"][0]
    return run["latency_ms"], run["throughput"]


def load_range(results):
    """Lowest and highest 1-minute load average seen at the start or end of any run."""
    values = [v for result in results for run in policy(result)["runs"] for v in run.get("load_average", [])]
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def main(prefix, rounds):
    runs = {name: [load(prefix, name, r) for r in range(1, rounds + 1)]
            for name in ("http", "inprocess", "http-single", "inprocess-single")}
    http_rates = [policy(r)["max_sustainable_rate"] for r in runs["http"]]
    local_rates = [policy(r)["max_sustainable_rate"] for r in runs["inprocess"]]
    http_rate, local_rate = statistics.median(http_rates), statistics.median(local_rates)
    # Each round measures both sides back to back, so its ratio is the paired comparison.
    ratios = [h / l if l else float("nan") for h, l in zip(http_rates, local_rates)]
    http_single = [single(r) for r in runs["http-single"]]
    local_single = [single(r) for r in runs["inprocess-single"]]
    local = runs["inprocess"][0]
    print(f"# quiver serve vs in-process engine: embed, {local['model']}, p99 target {local['latency_target_ms']} ms\n")
    print(f"{local['backend']} · {local['cores']} cores · {local['date']} · generated short queries · "
          f"median of {rounds} interleaved round{'s' if rounds > 1 else ''}\n")
    print("| | HTTP (`quiver bench --url`) | in process | HTTP / in process |")
    print("|---|---:|---:|---:|")
    print(f"| max sustainable rate (req/s, p99 ≤ target; median) | {http_rate:.0f} | {local_rate:.0f} | "
          f"**{statistics.median(ratios):.2f}×** (median of the rounds' ratios) |")
    for p in ("p50", "p90", "p99"):
        h = statistics.median(lat[p] for lat, _ in http_single)
        l = statistics.median(lat[p] for lat, _ in local_single)
        print(f"| single request {p} (ms, one client) | {h:.2f} | {l:.2f} | {h - l:+.2f} ms |")
    print(f"| single client throughput (req/s) | {statistics.median(t for _, t in http_single):.0f} | "
          f"{statistics.median(t for _, t in local_single):.0f} | |")
    print("| load average during the runs (1 min) | "
          + " | ".join("{:.2f}–{:.2f}".format(*load_range(runs[n])) for n in ("http", "inprocess")) + " | |")
    print()
    print("Per round, max sustainable rate (req/s): "
          + "; ".join(f"{h:.0f} vs {l:.0f} ({h / l:.2f}×)" for h, l in zip(http_rates, local_rates)) + ".\n")
    client = runs["http"][0].get("settings", {}).get("connections")
    settings = local.get("settings", {})
    print(f"HTTP client: SwiftNIO HTTP/1.1, keep-alive, up to {client or '?'} connections. "
          f"Batches at once: {settings.get('concurrent_batches', '?')}. "
          f"OPENBLAS_CORETYPE={settings.get('openblas_coretype', '?')}.\n")
    print("Issue 7's bar: HTTP throughput at the same p99 target ≥ 0.9× in process, single-request "
          "overhead ≤ 1 ms (p50 difference above).")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
