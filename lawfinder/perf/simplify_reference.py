"""Runs SimpliPy 0.12 over a corpus inside its own reference venv and writes per-expression timings and outputs.

Started by ``lawfinder bench simplify --reference VENV`` as ``VENV/bin/python this_file --kit DIR --corpus F --out J``;
it imports only the standard library and the reference kit (``load_simplipy.py`` beside the rule set), never
lawfinder, so it runs with the reference venv's interpreter. Pass 1 is timed cold (right after loading the engine);
passes 2..N are timed warm, as the kit's own baseline does.
"""

import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", required=True, help="folder with load_simplipy.py and engine-acj-4-3/")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()

    sys.dont_write_bytecode = True  # keep the shared kit folder free of __pycache__
    sys.path.insert(0, args.kit)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from load_simplipy import load_engine, simplify  # noqa: E402

    with open(args.corpus) as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    t0 = time.perf_counter()
    engine = load_engine()
    load_s = time.perf_counter() - t0
    times = [[0.0] * len(corpus) for _ in range(args.passes)]
    outs = [None] * len(corpus)
    for p in range(args.passes):
        for i, tokens in enumerate(corpus):
            t = time.perf_counter()
            out = simplify(tokens, engine=engine)
            times[p][i] = (time.perf_counter() - t) * 1e6
            outs[i] = out
    again = [simplify(out, engine=engine) for out in outs]
    import simplipy

    result = {"version": getattr(simplipy, "__version__", "?"), "engine_load_s": load_s,
              "first_pass_us": times[0], "warm_us": [min(times[p][i] for p in range(1, args.passes))
                                                      for i in range(len(corpus))] if args.passes > 1 else times[0],
              "outputs": outs, "idempotent": [a == o for a, o in zip(again, outs)]}
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
