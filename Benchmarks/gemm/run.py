#!/usr/bin/env python3
"""GEMM GFLOP/s: Quiver's backends next to cblas_sgemm called directly and numpy, same run.

Runs Benchmarks/GEMMBench once per configuration (OpenBLAS fixes its core type when it loads, so
each configuration is its own process), interleaving rounds so drift on a shared machine hits all
configurations alike, and keeps each configuration's best median. Peers:
  cblas  <core> <threads>  cblas_sgemm directly, every OpenBLAS core type x thread count
  numpy                    numpy.matmul in float32 (numpy's own bundled OpenBLAS)
The CPU backend must reach >= 0.95x the best cblas configuration.

Usage: python3 Benchmarks/gemm/run.py [--quick] [--rounds N] [--no-build]
Writes Benchmarks/results/gemm.json and gemm.md. Needs numpy (installed with pip if missing).
"""
import argparse, datetime, json, os, platform, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHAPES = {"2048x2048x2048": (2048, 2048, 2048, False), "256x200000x384t": (256, 200000, 384, True)}
QUICK_SHAPES = {"512x512x512": (512, 512, 512, False), "64x20000x384t": (64, 20000, 384, True)}


def sh(cmd, env=None):
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return out.stdout


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def run_bench(binary, mode, shapes, repeats, env_extra):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("QUIVER_OPENBLAS_CORETYPE", None)
    env.update(env_extra)
    out = sh([binary, mode, "--shapes", ",".join(shapes), "--repeats", str(repeats)], env)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def numpy_gflops(shapes, repeats):
    import numpy as np
    results = []
    rng = np.random.default_rng()
    for label, (m, n, k, t) in shapes.items():
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k) if t else (k, n)).astype(np.float32)
        f = (lambda: a @ b.T) if t else (lambda: a @ b)
        f()
        times = []
        for _ in range(repeats):
            s = time.perf_counter(); f(); times.append(time.perf_counter() - s)
        times.sort()
        flops = 2.0 * m * n * k
        results.append({"what": "numpy", "shape": label, "gflops_median": flops / times[len(times) // 2] / 1e9,
                        "gflops_best": flops / times[0] / 1e9})
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small shapes (a smoke run, not for the record)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-opencl", action="store_true")
    args = ap.parse_args()
    shapes = QUICK_SHAPES if args.quick else SHAPES

    try:
        import numpy  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "numpy"], check=True)

    if not args.no_build:
        sh(["swift", "build", "-c", "release", "--product", "GEMMBench"])
    binary = os.path.join(ROOT, ".build", "release", "GEMMBench")

    nproc = os.cpu_count() or 1
    # "detected": OpenBLAS's own CPU detection (OPENBLAS_CORETYPE unset); Haswell: the AVX2 kernels
    # (what an inherited OPENBLAS_CORETYPE=Haswell gives); SkylakeX: the AVX-512 kernels.
    cores = ["detected", "Haswell"]
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"} <= cpu_flags():
        cores.append("SkylakeX")
    configs = []
    for core in cores:
        for threads in sorted({1, nproc}):
            env = {"OPENBLAS_NUM_THREADS": str(threads)}
            if core != "detected":
                env["OPENBLAS_CORETYPE"] = core
            configs.append((f"cblas {core} {threads}t", "cblas", env))
    # Quiver as users run it: whatever OPENBLAS_CORETYPE this shell has is inherited.
    inherited = {"OPENBLAS_CORETYPE": os.environ["OPENBLAS_CORETYPE"]} if os.environ.get("OPENBLAS_CORETYPE") else {}
    configs.append(("quiver cpu (default)", "quiver-cpu", inherited))
    if not args.no_opencl:
        configs.append(("quiver opencl", "quiver-opencl", {}))

    best = {}  # (config, shape) -> record with the highest median over rounds
    for rnd in range(args.rounds):
        for name, mode, env in configs:
            try:
                records = run_bench(binary, mode, list(shapes), args.repeats, env)
            except RuntimeError as e:
                print(f"skipping {name}: {e}", file=sys.stderr)
                continue
            for r in records:
                key = (name, r["shape"])
                if key not in best or r["gflops_median"] > best[key]["gflops_median"]:
                    best[key] = dict(r, config=name)
        for r in numpy_gflops(shapes, args.repeats):
            key = ("numpy", r["shape"])
            if key not in best or r["gflops_median"] > best[key]["gflops_median"]:
                best[key] = dict(r, config="numpy")
        print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [f"# GEMM GFLOP/s ({datetime.date.today()}, commit {commit})", "",
             f"CPU: {cpu_name()}, {nproc} cores. Median of {args.repeats} runs, best of {args.rounds} interleaved rounds. "
             "Ratio = this row / best cblas row of the same shape.",
             f"Inherited OPENBLAS_CORETYPE: {os.environ.get('OPENBLAS_CORETYPE') or 'unset'} "
             "(numpy and 'quiver cpu (default)' run with it, as a user's process would; the cblas rows set their own).", ""]
    verdicts = []
    for shape in shapes:
        rows = [v for (c, s), v in best.items() if s == shape]
        cblas_best = max((r["gflops_median"] for r in rows if r["config"].startswith("cblas")), default=float("nan"))
        lines += [f"## {shape}" + (" (B transposed: the similarity layout)" if shape.endswith("t") else ""), "",
                  "| configuration | OpenBLAS core | GFLOP/s (median) | ratio vs best cblas |", "|---|---|---:|---:|"]
        for r in sorted(rows, key=lambda r: -r["gflops_median"]):
            lines.append(f"| {r['config']} | {r.get('core', '')} | {r['gflops_median']:.1f} | {r['gflops_median'] / cblas_best:.2f}x |")
        q = best.get(("quiver cpu (default)", shape))
        if q:
            ratio = q["gflops_median"] / cblas_best
            verdicts.append(f"{shape}: quiver cpu = {ratio:.3f}x best cblas ({'PASS' if ratio >= 0.95 else 'FAIL'}: target >= 0.95x)")
        lines.append("")
    lines += ["## Verdict", ""] + [f"- {v}" for v in verdicts]
    table = "\n".join(lines)
    print(table)

    if not args.quick:
        os.makedirs(os.path.join(ROOT, "Benchmarks", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "Benchmarks", "results", "gemm.md"), "w") as f:
            f.write(table + "\n")
        with open(os.path.join(ROOT, "Benchmarks", "results", "gemm.json"), "w") as f:
            json.dump({"date": str(datetime.date.today()), "commit": commit, "cpu": cpu_name(), "cores": nproc,
                       "inherited_openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                       "results": list(best.values())}, f, indent=2)


if __name__ == "__main__":
    main()
