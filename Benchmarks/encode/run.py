#!/usr/bin/env python3
"""Sentence-embedding throughput: quiver encode vs onnxruntime and sentence-transformers, same run.

Workloads (all-MiniLM-L6-v2, texts built with the model's own tokenizer):
  fixed128  texts that tokenize to exactly 128 tokens, batch 32
  mix       a realistic mix: 60% queries (4-16 tokens), 30% titles (12-48), 10% descriptions (64-256)
Peers, each over the same texts, timed from texts to normalized embeddings, model load excluded:
  onnxruntime           the model exported to ONNX here (torch.onnx, opset 17, eager attention),
                        fused with onnxruntime.transformers' BERT optimizer, HF fast tokenizer,
                        inputs sorted by length, mean pooling + L2 normalize in numpy,
                        intra-op threads = cores
  sentence-transformers SentenceTransformer.encode(batch_size=32) on torch CPU
  quiver cpu / opencl   `quiver encode`, which reports its encode time without model loading
Rounds are interleaved; each configuration keeps its best rate. Target: quiver cpu >= 1.0x onnxruntime.

Needs: torch (CPU wheel), sentence-transformers, onnx, onnxruntime, tokenizers, numpy
(pip install /opt/wheels/torch-*.whl sentence-transformers onnx onnxruntime).
Usage: python3 Benchmarks/encode/run.py [--quick] [--rounds N] [--no-build] [--no-opencl] [--scratch-path DIR]
Writes Benchmarks/results/encode.md and encode.json, with the 1-minute load average before and after
the run: the machine is shared and other work skews every figure (the run itself adds about one per
core, so "after" well above the core count means others were busy too).
"""
import argparse, datetime, json, os, random, re, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
WORDS = ("the of and to in is for on with as by at from item user search query price red blue small large "
         "running shoes jacket coffee table wireless headphones organic garden book novel kitchen camera "
         "recommendation personalized quickly premium lightweight waterproof vintage classic modern").split()


def texts_with_tokens(tokenizer, n_tokens, rng):
    """A text whose encoding (with [CLS]/[SEP]) has exactly n_tokens ids."""
    words = []
    while True:
        words.append(rng.choice(WORDS))
        ids = tokenizer.encode(" ".join(words), add_special_tokens=True)
        if len(ids) >= n_tokens:
            while len(tokenizer.encode(" ".join(words), add_special_tokens=True)) > n_tokens:
                words.pop()
            return " ".join(words)


def workloads(quick):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(MODEL)
    rng = random.Random(7)
    n_fixed, n_mix = (64, 96) if quick else (512, 768)
    fixed = [texts_with_tokens(tok, 128, rng) for _ in range(n_fixed)]
    mix = []
    for _ in range(n_mix):
        r = rng.random()
        lo, hi = (4, 16) if r < 0.6 else (12, 48) if r < 0.9 else (64, 256)
        mix.append(texts_with_tokens(tok, rng.randint(lo, hi), rng))
    return {"fixed128": fixed, "mix": mix}


def onnx_runner(tmp):
    import numpy as np, onnxruntime as ort, torch
    from transformers import AutoModel, AutoTokenizer
    path = os.path.join(tmp, "minilm.onnx")
    model = AutoModel.from_pretrained(MODEL, attn_implementation="eager").eval()  # the graph ORT's BERT fusions expect
    tok = AutoTokenizer.from_pretrained(MODEL)
    dummy = tok(["hello world"], return_tensors="pt")

    class Wrapped(torch.nn.Module):  # a fixed three-input signature for the exporter
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    torch.onnx.export(Wrapped(model), (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]), path,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={k: {0: "batch", 1: "seq"} for k in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
                      opset_version=17, dynamo=False)
    try:  # the strongest ORT setup: fused attention, LayerNorm and GELU (onnxruntime.transformers)
        from onnxruntime.transformers.optimizer import optimize_model
        optimized = optimize_model(path, model_type="bert", num_heads=12, hidden_size=384)
        path = os.path.join(tmp, "minilm-optimized.onnx")
        optimized.save_model_to_file(path)
    except Exception as e:  # noqa: BLE001 - fall back to ORT's own graph optimizations
        print(f"onnxruntime optimizer unavailable ({e}); using the plain export", file=sys.stderr)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def run(texts, batch):
        # Sorted by token count like sentence-transformers and quiver, so padding is equally small.
        order = sorted(range(len(texts)), key=lambda i: len(tok.encode(texts[i])))
        texts = [texts[i] for i in order]
        out = []
        for i in range(0, len(texts), batch):
            enc = tok(texts[i:i + batch], padding=True, truncation=True, max_length=256, return_tensors="np")
            feeds = {k: enc[k].astype(np.int64) for k in ["input_ids", "attention_mask", "token_type_ids"]}
            hidden = session.run(None, feeds)[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            out.append(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))
        rows = np.concatenate(out)
        result = np.empty_like(rows)
        result[order] = rows
        return result
    return run


def st_runner():
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(MODEL, device="cpu")
    return lambda texts, batch: model.encode(texts, batch_size=batch, normalize_embeddings=True)


def quiver_rate(binary, backend, texts, batch, tmp):
    inp = os.path.join(tmp, "input.jsonl")
    with open(inp, "w") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    out = os.path.join(tmp, f"out-{backend}.npy")
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run([binary, "encode", "--model", MODEL, "--input", inp, "--format", "jsonl", "--output", out,
                        "--batch-size", str(batch), "--backend", backend], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    m = re.search(r"encoded (\d+) inputs in ([\d.]+) s", r.stderr)
    if not m:
        raise RuntimeError(f"no summary line in quiver's stderr:\n{r.stderr}")
    return int(m.group(1)) / float(m.group(2))


def timed_rate(fn, texts, batch):
    fn(texts[:batch], batch)  # warm-up
    start = time.perf_counter()
    fn(texts, batch)
    return len(texts) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-opencl", action="store_true")
    ap.add_argument("--scratch-path", default=".build", help="SwiftPM build folder to build in and run quiver from")
    args = ap.parse_args()
    scratch = os.path.join(ROOT, args.scratch_path)
    load_before = os.getloadavg()[0]
    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "quiver", "--scratch-path", scratch], cwd=ROOT, check=True)
    binary = os.path.join(scratch, "release", "quiver")
    loads = workloads(args.quick)
    batch = 32
    best = {}
    with tempfile.TemporaryDirectory() as tmp:
        peers = {"onnxruntime": onnx_runner(tmp), "sentence-transformers": st_runner()}
        for rnd in range(args.rounds):
            for name, texts in loads.items():
                for peer, fn in peers.items():
                    best[(peer, name)] = max(best.get((peer, name), 0), timed_rate(fn, texts, batch))
                backends = ["cpu"] + ([] if args.no_opencl else ["opencl"])
                for backend in backends:
                    sample = texts if backend == "cpu" else texts[:64]  # PoCL is slow; a sample suffices
                    try:
                        rate = quiver_rate(binary, backend, sample, batch, tmp)
                    except RuntimeError as e:
                        print(f"quiver {backend} failed: {e}", file=sys.stderr)
                        continue
                    key = (f"quiver {backend}", name)
                    best[key] = max(best.get(key, 0), rate)
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)

    load_after = os.getloadavg()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [f"# all-MiniLM-L6-v2 encode throughput ({datetime.date.today()}, commit {commit})", "",
             f"{os.cpu_count()} cores; sentences/s, best of {args.rounds} interleaved rounds; batch {batch}; "
             "texts → normalized embeddings, model load excluded. Ratio vs onnxruntime on the same workload. "
             f"1-minute load average {load_before:.2f} before the run, {load_after:.2f} after (the run adds ~{os.cpu_count()}).", "",
             "| configuration | " + " | ".join(loads) + " |", "|---|" + "---:|" * len(loads)]
    configs = sorted({c for c, _ in best}, key=lambda c: -best.get((c, "fixed128"), 0))
    for c in configs:
        cells = []
        for name in loads:
            v, ref = best.get((c, name)), best.get(("onnxruntime", name))
            cells.append(f"{v:.1f} ({v / ref:.2f}x)" if v and ref else "—")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    verdict = []
    for name in loads:
        q, o = best.get(("quiver cpu", name)), best.get(("onnxruntime", name))
        if q and o:
            verdict.append(f"- {name}: quiver cpu = {q / o:.3f}x onnxruntime ({'PASS' if q >= o else 'FAIL'}: target >= 1.0x)")
    table = "\n".join(lines + ["", "## Verdict", ""] + verdict)
    print(table)
    if not args.quick:
        with open(os.path.join(ROOT, "Benchmarks", "results", "encode.md"), "w") as f:
            f.write(table + "\n")
        with open(os.path.join(ROOT, "Benchmarks", "results", "encode.json"), "w") as f:
            json.dump({"date": str(datetime.date.today()), "commit": commit, "cores": os.cpu_count(), "batch": batch,
                       "load_average": {"before": load_before, "after": load_after}, "results": [{"config": c, "workload": w, "sentences_per_s": v} for (c, w), v in best.items()]}, f, indent=2)


if __name__ == "__main__":
    main()
