#!/usr/bin/env python3
"""Calls a running `quiver serve` with the official `openai` Python client, unchanged.

Embeds the texts of a JSON file (a list of strings) twice: with the client's default encoding
(it asks for base64 and decodes it) and with encoding_format="float". Prints JSON:
{"default": [[...]], "float": [[...]], "model": ..., "usage": {...}, "status_404": ...}.
Exit code 3 when the `openai` package is not installed (pip install openai).

  python3 scripts/serve/openai_client_check.py --base-url http://127.0.0.1:8080/v1 \
      --model all-MiniLM-L6-v2 --texts texts.json [--api-key KEY]
"""
import argparse
import json
import sys

try:
    import openai
except ImportError:
    print("the openai package is not installed: pip install openai", file=sys.stderr)
    sys.exit(3)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--texts", required=True)
    p.add_argument("--api-key", default="unused")
    args = p.parse_args()
    with open(args.texts, encoding="utf-8") as f:
        texts = json.load(f)

    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=60)
    default = client.embeddings.create(input=texts, model=args.model)
    floats = client.embeddings.create(input=texts, model=args.model, encoding_format="float")
    try:
        client.embeddings.create(input="x", model="no-such-model")
        status_404 = None
    except openai.NotFoundError as e:
        status_404 = {"status": e.status_code, "code": e.code}
    print(json.dumps({
        "default": [d.embedding for d in sorted(default.data, key=lambda d: d.index)],
        "float": [d.embedding for d in sorted(floats.data, key=lambda d: d.index)],
        "model": default.model,
        "usage": {"prompt_tokens": default.usage.prompt_tokens, "total_tokens": default.usage.total_tokens},
        "status_404": status_404,
    }))


if __name__ == "__main__":
    main()
