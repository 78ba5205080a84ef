"""``lawfinder bench simplify``: our simplifier against SimpliPy 0.12 and SymPy on a corpus of prefix expressions.

For ours: per-expression latency of a pass from empty caches (median, p90; best of two such passes, one before and
one after the reference run, so a load change on a shared machine weighs less), mean output/input length ratio,
outputs numerically different from their input (64 random points, see ``simplify_check``), outputs longer than
their input, outputs that change when simplified again. ``--reference VENV`` runs SimpliPy 0.12 from the reference
kit in that venv's interpreter (a subprocess) on the same corpus and prints the two side by side with their ratio;
``--sympy N`` runs SymPy ``simplify`` on the first N expressions with a time cap. Lengths are counted in our
vocabulary for both engines (SimpliPy's ``pow E 2`` is one token ``pow2`` plus E); SimpliPy's own count is in
the JSON too. Absolute times are noisy on a shared machine: compare within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

def register_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simplify", help="simplifier latency and quality vs SimpliPy 0.12 and SymPy")
    p.add_argument("--corpus", required=True,
                   help="JSON lines, one prefix token list each (e.g. the SimpliPy reference kit's corpus.jsonl)")
    p.add_argument("--out", required=True, help="write the figures here (JSON)")
    p.add_argument("--reference", metavar="VENV", help="venv with simplipy==0.12.0 (the kit's setup.sh makes one)")
    p.add_argument("--kit", help="reference kit folder (default: the corpus's folder)")
    p.add_argument("--sympy", type=int, default=0, metavar="N", help="also run SymPy simplify on the first N")
    p.add_argument("--sympy-timeout", type=float, default=5.0, help="seconds per SymPy call (default 5)")
    p.add_argument("--limit", type=int, default=0, help="use only the first N corpus lines")
    p.add_argument("--no-check", action="store_true", help="skip the numeric equivalence checks")
    p.set_defaults(func=run_bench)


# ------------------------------------------------------------------------------------------------------ helpers
def read_corpus(path: str | os.PathLike, limit: int = 0) -> list[list[str]]:
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            tokens = json.loads(line)
            if not (isinstance(tokens, list) and tokens and all(isinstance(t, str) for t in tokens)):
                raise ValueError(f"{path}: line {n} is not a non-empty JSON list of token strings")
            out.append(tokens)
            if limit and len(out) >= limit:
                break
    return out


def canonical_length(tokens: list[str]) -> int:
    """Token count in our vocabulary: ``pow E k`` / ``rootn E k`` with a literal k that has a unary spelling count
    as one token plus E (``pow E 1``, ``rootn E 1`` as E alone)."""
    from ..simplipy.operators import OPERATORS

    arity = {name: op.arity for name, op in OPERATORS.items()} | {"rootn": 2}
    n = len(tokens)

    def walk(i: int) -> int:
        nonlocal n
        tok = tokens[i]
        if tok in ("pow", "rootn"):
            j = walk(i + 1)
            try:
                v = float(tokens[j].strip("()"))
            except ValueError:
                v = None
            if v == 1:
                n -= 2
            elif (tok == "pow" and v in (2, 3, 4, 5, 0.5, 0.25, -1)) or (tok == "rootn" and v in (2, 3, 4, 5)):
                n -= 1
            return walk(j)
        j = i + 1
        for _ in range(arity.get(tok, 0)):
            j = walk(j)
        return j

    walk(0)
    return n


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _timing(us: list[float]) -> dict:
    return {"median_us": statistics.median(us), "p90_us": _pct(us, 0.9), "mean_us": statistics.fmean(us)}


def _quality(inputs: list[list[str]], outputs: list, idempotent: list[bool], check: bool, simplify) -> dict:
    from ..simplipy.simplify_check import check as numeric_check
    from ..simplipy.tokens import normalize

    ratios, longer, verdicts = [], 0, {}
    for i, (inp, out) in enumerate(zip(inputs, outputs)):
        n_in = canonical_length(inp)
        n_out = canonical_length(out)
        ratios.append(n_out / n_in)
        longer += n_out > n_in
        if check:
            try:
                verdict = numeric_check(normalize(inp), normalize(out), seed=i, simplify=simplify)
            except ValueError:
                verdict = "unparsed"  # e.g. SimpliPy's float("inf") or rootn E 8 have no spelling of ours
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
    return {"mean_len_ratio": statistics.fmean(ratios), "longer": longer,
            "not_idempotent": sum(not x for x in idempotent), "equivalence": verdicts,
            "different": verdicts.get("different", 0)}


# ------------------------------------------------------------------------------------------------------- engines
def cold_pass(corpus: list[list[str]]) -> tuple[list[float], list[list[str]]]:
    """One timed pass over the corpus starting from empty caches (a cache of whole expressions seen earlier in the
    same pass may hit; nothing from an earlier pass can)."""
    from ..simplipy.simplify import clear_caches, simplify

    clear_caches()
    us, outs = [], []
    clock = time.perf_counter
    for tokens in corpus:
        t = clock()
        out = simplify(tokens)
        us.append((clock() - t) * 1e6)
        outs.append(out)
    return us, outs


def summarize_ours(corpus: list[list[str]], passes: list[tuple[list[float], list[list[str]]]], check: bool) -> dict:
    """Per-expression best of the cold passes (they bracket the reference run, so a load change on a shared machine
    between the two engines' runs counts less), and the quality of the outputs (the passes must agree)."""
    from ..simplipy.simplify import simplify

    us = [min(times) for times in zip(*(p[0] for p in passes))]
    outs = passes[0][1]
    agree = all(p[1] == outs for p in passes[1:])
    idem = [simplify(o) == o for o in outs]
    return {"timing": _timing(us), "cold_passes": len(passes), "passes_agree": agree,
            **_quality(corpus, outs, idem, check, simplify), "outputs": outs, "us": us}


def run_reference(corpus_path: str, kit: str, venv: str, corpus: list[list[str]], check: bool) -> dict:
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        raise ValueError(f"--reference {venv}: no {python}; make the venv with {kit}/setup.sh")
    script = Path(__file__).with_name("simplify_reference.py")
    with tempfile.TemporaryDirectory() as tmp:
        out_json = os.path.join(tmp, "reference.json")
        proc = subprocess.run([str(python), str(script), "--kit", kit, "--corpus", corpus_path, "--out", out_json],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ValueError(f"SimpliPy reference run failed:\n{proc.stderr[-2000:]}")
        with open(out_json) as f:
            ref = json.load(f)
    n = len(corpus)
    outs = ref["outputs"][:n]
    from ..simplipy.simplify import simplify

    quality = _quality(corpus, outs, ref["idempotent"][:n], check, simplify)
    native = statistics.fmean(len(o) / len(i) for i, o in zip(corpus, outs))
    return {"version": ref["version"], "engine_load_s": ref["engine_load_s"],
            "timing": _timing(ref["first_pass_us"][:n]), "timing_warm": _timing(ref["warm_us"][:n]),
            **quality, "mean_len_ratio_native_tokens": native, "outputs": outs}


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def run_sympy(corpus: list[list[str]], n: int, timeout: float) -> dict:
    import sympy as sp

    from ..simplipy.sympy_bridge import from_sympy, to_sympy
    from ..simplipy.tokens import normalize

    ms, ratios, timeouts, errors, longer = [], [], 0, 0, 0
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for tokens in corpus[:n]:
            expr = to_sympy(normalize(tokens))
            t = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                result = sp.simplify(expr)
                signal.setitimer(signal.ITIMER_REAL, 0)
            except _Timeout:
                timeouts += 1
                ms.append(timeout * 1e3)
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            ms.append((time.perf_counter() - t) * 1e3)
            try:
                out_len = len(from_sympy(result))
            except (ValueError, TypeError):
                errors += 1
                continue
            ratios.append(out_len / canonical_length(tokens))
            longer += out_len > canonical_length(tokens)
    finally:
        signal.signal(signal.SIGALRM, old)
    return {"n": min(n, len(corpus)), "timeout_s": timeout, "timeouts": timeouts, "unconvertible": errors,
            "median_ms_timeouts_at_cap": statistics.median(ms), "p90_ms": _pct(ms, 0.9),
            "mean_len_ratio_completed": statistics.fmean(ratios) if ratios else None, "longer": longer}


# ------------------------------------------------------------------------------------------------------ the command
def _row(name: str, ours, ref=None, fmt="{:.3f}", ratio=False) -> str:
    def cell(v):
        return "-" if v is None else (fmt.format(v) if not isinstance(v, str) else v)

    r = ""
    if ratio and ours is not None and ref:
        r = f"{ours / ref:.2f}x"
    return f"{name:<34}{cell(ours):>14}{cell(ref):>16}{r:>10}"


def run_bench(args: argparse.Namespace) -> int:
    corpus_path = os.path.abspath(args.corpus)
    if not os.path.exists(corpus_path):
        raise FileNotFoundError(f"--corpus {args.corpus}: no such file")
    corpus = read_corpus(corpus_path, args.limit)
    check = not args.no_check
    report: dict = {"corpus": {"file": corpus_path, "n": len(corpus),
                               "mean_in_len": statistics.fmean(canonical_length(t) for t in corpus)},
                    "machine": {"python": platform.python_version(), "platform": platform.platform(),
                                "cores": os.cpu_count()},
                    "note": "our latency: per expression, the best of two passes that each start from empty caches "
                            "(one before and one after the reference run); SimpliPy: its first pass after loading, "
                            "and warm = best of its passes 2-3. The machine may be shared: compare within a run"}
    from ..simplipy import BUILD

    report["lawfinder_build"] = BUILD.implementation
    print(f"corpus: {corpus_path} ({len(corpus)} expressions); our simplifier: {BUILD.implementation} build "
          f"(see lawfinder/native.py)", flush=True)
    passes = [cold_pass(corpus)]
    ref = None
    if args.reference:
        kit = os.path.abspath(args.kit or os.path.dirname(corpus_path))
        with tempfile.TemporaryDirectory() as tmp:
            limit_path = corpus_path
            if args.limit:
                limit_path = os.path.join(tmp, "corpus.jsonl")
                with open(limit_path, "w") as f:
                    f.writelines(json.dumps(t) + "\n" for t in corpus)
            ref = run_reference(limit_path, kit, args.reference, corpus, check)
        report["simplipy"] = {k: v for k, v in ref.items() if k != "outputs"}
    passes.append(cold_pass(corpus))
    ours = summarize_ours(corpus, passes, check)
    report["lawfinder"] = {k: v for k, v in ours.items() if k not in ("outputs", "us")}
    if ref is not None:
        shorter = sum(canonical_length(a) < canonical_length(b) for a, b in zip(ours["outputs"], ref["outputs"]))
        longer = sum(canonical_length(a) > canonical_length(b) for a, b in zip(ours["outputs"], ref["outputs"]))
        report["head_to_head"] = {"ours_shorter": shorter, "ours_longer": longer,
                                  "median_latency_ratio_vs_first_pass": ours["timing"]["median_us"]
                                  / ref["timing"]["median_us"],
                                  "median_latency_ratio_vs_warm": ours["timing"]["median_us"]
                                  / ref["timing_warm"]["median_us"]}
    if args.sympy:
        report["sympy"] = run_sympy(corpus, args.sympy, args.sympy_timeout)
        ours_n = ours["us"][: args.sympy]
        report["sympy"]["lawfinder_median_us_same_n"] = statistics.median(ours_n)
        report["sympy"]["speedup_at_median"] = report["sympy"]["median_ms_timeouts_at_cap"] * 1e3 / statistics.median(
            ours_n)
        report["sympy"]["lawfinder_mean_len_ratio_same_n"] = statistics.fmean(
            canonical_length(o) / canonical_length(i) for i, o in zip(corpus[: args.sympy], ours["outputs"]))

    _print_table(report, ref is not None)
    from ..atomic import write_text

    out = write_text(args.out, json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


def _print_table(report: dict, with_ref: bool) -> None:
    ours, ref = report["lawfinder"], report.get("simplipy", {})
    g = (lambda d, *ks: _get(d, ks))
    print(f"{'':<34}{'lawfinder':>14}{'SimpliPy 0.12' if with_ref else '':>16}{'ratio' if with_ref else '':>10}")
    print(_row("median latency, cold pass (us)", g(ours, "timing", "median_us"), g(ref, "timing", "median_us"),
               "{:.1f}", ratio=True))
    print(_row("p90 latency, cold pass (us)", g(ours, "timing", "p90_us"), g(ref, "timing", "p90_us"), "{:.1f}",
               ratio=True))
    if with_ref:
        print(_row("median latency, SimpliPy warm (us)", g(ours, "timing", "median_us"),
                   g(ref, "timing_warm", "median_us"), "{:.1f}", ratio=True))
    print(_row("mean out/in length (our tokens)", ours["mean_len_ratio"], ref.get("mean_len_ratio"), ratio=True))
    if with_ref:
        print(_row("mean out/in length (own tokens)", ours["mean_len_ratio"], ref.get("mean_len_ratio_native_tokens")))
    for key, label in (("different", "numerically different"), ("longer", "longer than input"),
                       ("not_idempotent", "not idempotent")):
        print(_row(label, ours[key], ref.get(key), "{:d}"))
    eq_o, eq_r = ours.get("equivalence", {}), ref.get("equivalence", {})
    print(_row("equivalence ok/nofit/undetermined", "/".join(str(eq_o.get(k, 0)) for k in ("ok", "nofit",
                                                                                         "undetermined")),
               "/".join(str(eq_r.get(k, 0)) for k in ("ok", "nofit", "undetermined")) if with_ref else None))
    if with_ref:
        h = report["head_to_head"]
        print(f"head to head: ours shorter on {h['ours_shorter']}, longer on {h['ours_longer']}")
    if "sympy" in report:
        s = report["sympy"]
        print(f"SymPy simplify, first {s['n']} (cap {s['timeout_s']:g} s, {s['timeouts']} timeouts): "
              f"median {s['median_ms_timeouts_at_cap']:.1f} ms, p90 {s['p90_ms']:.1f} ms, mean out/in "
              f"{s['mean_len_ratio_completed']:.3f} (ours on the same: {s['lawfinder_mean_len_ratio_same_n']:.3f}); "
              f"ours is {s['speedup_at_median']:.0f}x faster at the median")


def _get(d: dict, keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d

