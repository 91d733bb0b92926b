#!/usr/bin/env python3
"""Exact top-k catalog scoring: `quiver score` vs faiss-cpu IndexFlatIP and numpy, same data, same run.

Workload (default = the issue's): Q queries x N items x D dims float32, k = 100, inner product.
Catalog and queries are standard-normal random (seeded), written once as .npy.
Every peer is timed as a whole job in its own process, from files on disk to results on disk:
  quiver   `quiver score --catalog C.npy --queries Q.npy --k K --output out.jsonl` (release build,
           CPU backend; it maps the catalog, writes JSONL with ids and scores)
  faiss    np.load (mmap) + IndexFlatIP.add + search + np.save of ids and scores, faiss.omp threads
           = cores; run with OPENBLAS_CORETYPE unset-by-us (machine default) and =SkylakeX, best kept
  numpy    np.load + blocked q @ c.T + argpartition/argsort per block + np.save
  quiver f16 / int8   the same job on a catalog converted once by `quiver catalog convert` (timed
           separately, like building an index), with `--rescore` the f32 original: a bf16 shortlist
           (CPUs with AVX512_BF16), rescored exactly in f32 and certified, so results stay exact
Rounds are interleaved; each peer keeps its best time. Every quiver run's results are checked against
faiss's (identical ids where scores are not near-tied) and recall@k against faiss is reported.

Needs: numpy, faiss-cpu (pip install faiss-cpu numpy). Usage:
  python3 Benchmarks/score/run.py [--items N] [--queries Q] [--dim D] [--k K] [--rounds R] [--no-build]
Writes Benchmarks/results/score.md and score.json.
"""
import argparse, datetime, json, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAISS_JOB = r'''
import sys, time, numpy as np, faiss
c, q, k, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cat = np.load(c, mmap_mode="r"); qs = np.load(q)
index = faiss.IndexFlatIP(cat.shape[1]); index.add(np.ascontiguousarray(cat))
D, I = index.search(qs, k)
np.save(out + ".ids.npy", I); np.save(out + ".scores.npy", D)
'''

NUMPY_JOB = r'''
import sys, numpy as np
c, q, k, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cat = np.load(c, mmap_mode="r"); qs = np.load(q)
n = cat.shape[0]; block = 65536
best_s = np.full((qs.shape[0], k), -np.inf, np.float32); best_i = np.zeros((qs.shape[0], k), np.int64)
for s in range(0, n, block):
    sc = qs @ np.asarray(cat[s:s + block]).T
    kk = min(k, sc.shape[1])
    part = np.argpartition(-sc, kk - 1, axis=1)[:, :kk]
    cs = np.concatenate([best_s, np.take_along_axis(sc, part, 1)], 1)
    ci = np.concatenate([best_i, part + s], 1)
    order = np.argsort(-cs, axis=1, kind="stable")[:, :k]
    best_s = np.take_along_axis(cs, order, 1); best_i = np.take_along_axis(ci, order, 1)
np.save(out + ".ids.npy", best_i); np.save(out + ".scores.npy", best_s)
'''


def timed(cmd, env=None):
    start = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return elapsed, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1024)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--scratch-path", default=".build", help="SwiftPM build folder to build in and run quiver from")
    ap.add_argument("--no-numpy", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "Benchmarks", "results"))
    args = ap.parse_args()
    import numpy as np

    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "quiver", "--scratch-path", args.scratch_path],
                       cwd=ROOT, check=True)
    quiver = os.path.join(ROOT, args.scratch_path, "release", "quiver")
    tmp = tempfile.mkdtemp(prefix="quiver-score-bench-")
    cat_path, q_path = os.path.join(tmp, "catalog.npy"), os.path.join(tmp, "queries.npy")
    rng = np.random.default_rng(42)
    cat = np.lib.format.open_memmap(cat_path, mode="w+", dtype=np.float32, shape=(args.items, args.dim))
    for s in range(0, args.items, 100_000):
        cat[s:s + 100_000] = rng.standard_normal((min(100_000, args.items - s), args.dim), dtype=np.float32)
    cat.flush(); del cat
    np.save(q_path, rng.standard_normal((args.queries, args.dim), dtype=np.float32))
    cores = os.cpu_count()
    base_env = dict(os.environ, OMP_NUM_THREADS=str(cores))
    # OpenBLAS's AVX-512 kernels only where the CPU has AVX-512 (elsewhere they die of SIGILL).
    avx512 = " avx512f " in " " + open("/proc/cpuinfo").read().split("flags", 1)[-1].split("\n", 1)[0] + " "
    skx_env = dict(base_env, OPENBLAS_CORETYPE="SkylakeX") if avx512 else base_env
    convert_seconds = {}
    for precision in ("f16", "int8"):
        convert_seconds[precision], _ = timed([quiver, "catalog", "convert", "--input", cat_path, "--to", precision, "--output",
                                               os.path.join(tmp, f"catalog.{precision}.safetensors"), "--overwrite"], base_env)

    def quiver_job(name, catalog, extra=()):
        return lambda: timed([quiver, "score", "--catalog", catalog, "--queries", q_path, "--k", str(args.k), *extra,
                              "--output", os.path.join(tmp, f"{name}.jsonl"), "--overwrite", "--backend", "cpu"], base_env)

    peers = {
        "quiver": quiver_job("quiver", cat_path),
        "quiver f16 + exact rescoring": quiver_job("quiver-f16", os.path.join(tmp, "catalog.f16.safetensors"), ("--rescore", cat_path)),
        "quiver int8 + exact rescoring": quiver_job("quiver-int8", os.path.join(tmp, "catalog.int8.safetensors"), ("--rescore", cat_path)),
        "faiss (machine OpenBLAS core)": lambda: timed([sys.executable, "-c", FAISS_JOB, cat_path, q_path, str(args.k), os.path.join(tmp, "faiss")], base_env),
    }
    if avx512:
        peers["faiss (OPENBLAS_CORETYPE=SkylakeX)"] = lambda: timed(
            [sys.executable, "-c", FAISS_JOB, cat_path, q_path, str(args.k), os.path.join(tmp, "faiss")], skx_env)
    if not args.no_numpy:
        peers["numpy (matmul + argpartition)"] = lambda: timed([sys.executable, "-c", NUMPY_JOB, cat_path, q_path, str(args.k), os.path.join(tmp, "numpy")], skx_env)
    best = {name: float("inf") for name in peers}
    logs = {}
    for r in range(args.rounds):
        for name, run in peers.items():
            t, err = run()
            best[name] = min(best[name], t)
            if name.startswith("quiver"): logs[name] = err.strip().splitlines()[-1]
            print(f"round {r + 1} {name}: {t:.3f} s", flush=True)
    quiver_log = logs["quiver"]

    # Agreement: quiver's ids vs faiss's, per query, allowing swaps only among near-tied scores.
    faiss_ids = np.load(os.path.join(tmp, "faiss.ids.npy")); faiss_scores = np.load(os.path.join(tmp, "faiss.scores.npy"))

    def agreement(name):
        same, checked, hits = 0, 0, 0
        with open(os.path.join(tmp, f"{name}.jsonl")) as f:
            for i, line in enumerate(f):
                obj = json.loads(line)
                checked += 1
                ours = obj["items"]; theirs = faiss_ids[i].tolist()
                hits += len(set(ours) & set(theirs))
                if ours == theirs:
                    same += 1
                else:
                    # Different order/members is fine only where faiss's scores tie within float error.
                    d = [j for j in range(len(ours)) if ours[j] != theirs[j]]
                    gap = max(abs(faiss_scores[i][j] - obj["scores"][j]) for j in d)
                    if gap < 1e-4 * max(1.0, abs(faiss_scores[i][0])): same += 1
        return same, checked, hits / (checked * args.k)

    agree = {name: agreement(name) for name in ("quiver", "quiver-f16", "quiver-int8")}
    same, checked, _ = agree["quiver"]
    faiss_best = min(v for n, v in best.items() if n.startswith("faiss"))
    work = args.items * args.queries
    result = {
        "date": datetime.date.today().isoformat(),
        "workload": {"items": args.items, "queries": args.queries, "dim": args.dim, "k": args.k, "metric": "dot"},
        "cores": cores,
        "seconds": best,
        "quiver_vs_best_faiss": faiss_best / best["quiver"],
        "f16_vs_best_faiss": faiss_best / best["quiver f16 + exact rescoring"],
        "int8_vs_best_faiss": faiss_best / best["quiver int8 + exact rescoring"],
        "agreement_with_faiss": {name: f"{a[0]}/{a[1]} queries, recall@{args.k} {a[2]:.5f}" for name, a in agree.items()},
        "convert_seconds": convert_seconds,
        "quiver_summaries": logs,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "score.json"), "w") as f:
        json.dump(result, f, indent=2)
    lines = [f"# Catalog scoring benchmark ({result['date']})", "",
             f"{args.queries} queries x {args.items} items x {args.dim} dims float32, k = {args.k}, inner product, "
             f"{cores} cores, whole job (load files, score, write results), best of {args.rounds} interleaved rounds.", "",
             "| peer | seconds | item·queries/s | quiver speed-up |", "|---|---|---|---|"]
    for name, t in best.items():
        lines.append(f"| {name} | {t:.3f} | {work / t:.3e} | {t / best['quiver']:.2f}x |")
    lines += ["", f"quiver vs best faiss: fp32 **{result['quiver_vs_best_faiss']:.3f}x**, "
              f"f16 + rescoring **{result['f16_vs_best_faiss']:.3f}x**, int8 + rescoring **{result['int8_vs_best_faiss']:.3f}x** "
              f"(one-time conversion: f16 {convert_seconds['f16']:.1f} s, int8 {convert_seconds['int8']:.1f} s).", "",
              "Agreement with faiss (identical ids up to near-ties; recall against faiss's ids):", ""]
    lines += [f"- {name}: {text}" for name, text in result["agreement_with_faiss"].items()]
    lines += ["", "quiver's own summaries:", ""] + [f"- `{v}`" for v in logs.values()]
    lines += ["", "Regenerate: `python3 Benchmarks/score/run.py`."]
    with open(os.path.join(args.out, "score.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
