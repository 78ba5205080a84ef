"""``lawfinder simplipy discover``: mine the simplifier's rule set (see ``discover``) and write it as msgpack.

The shipped ``lawfinder/simplipy/rules.msgpack`` is made by
``lawfinder simplipy discover --preset shipped --ray --out lawfinder/simplipy/rules.msgpack``.
With ``--ray`` (or when Ray is already initialised in the calling process) each level's enumeration runs as Ray
tasks; without it, in this process.
"""

from __future__ import annotations

import argparse
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simplipy", help="the simplifier's offline tools")
    ssub = p.add_subparsers(dest="simplipy_command", required=True, metavar="TOOL")
    d = ssub.add_parser("discover", help="enumerate small expressions and mine verified rewrite rules")
    d.add_argument("--out", required=True, help="rule file to write (msgpack)")
    d.add_argument("--preset", default="shipped", help="named configuration (shipped, small)")
    d.add_argument("--max-tokens", type=int, help="longest expression enumerated (overrides the preset)")
    d.add_argument("--variables", type=int, help="number of variables (overrides the preset)")
    d.add_argument("--operators", help="comma-separated unary operators to enumerate (overrides the preset)")
    d.add_argument("--seed", type=int, help="probe-point seed (overrides the preset)")
    d.add_argument("--ray", action="store_true", help="start a local Ray and run the enumeration as Ray tasks")
    d.add_argument("--workers", type=int, default=2, help="CPUs for --ray (default 2)")
    d.set_defaults(func=run_discover)


def _ray_map(ray):
    """``map_batches`` over Ray tasks: shared arguments are put in the object store once per call."""
    remotes: dict = {}

    def map_batches(fn, batches, *shared):
        remote = remotes.setdefault(fn, ray.remote(num_cpus=1)(fn))
        refs_shared = [ray.put(x) for x in shared]
        refs = [remote.remote(b, *refs_shared) for b in batches]
        pending, done = list(refs), 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            done += len(ready)
            print(f"  {fn.__name__}: {done}/{len(refs)} tasks", end="\r", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        return ray.get(refs)

    return map_batches


def run_discover(args: argparse.Namespace) -> int:
    from .discover import discover, preset
    from .rules import save_rules

    unary = None
    if args.operators:
        from .operators import UNARY

        unary = tuple(o.strip() for o in args.operators.split(",") if o.strip())
        bad = [o for o in unary if o not in UNARY]
        if bad:
            raise ValueError(f"--operators: {', '.join(bad)} not unary operators of the table")
    if args.max_tokens is not None and not 1 <= args.max_tokens <= 7:
        raise ValueError(f"--max-tokens {args.max_tokens}: choose 1..7")
    config = preset(args.preset, max_tokens=args.max_tokens, n_variables=args.variables, unary=unary,
                    seed=args.seed)
    map_batches, workers = None, 1
    ray = None
    if args.ray:
        import ray as _ray

        from ..ray_connect import connect

        ray = _ray
        connect(num_cpus=args.workers, log_to_driver=False)
    else:
        try:
            import ray as _ray

            ray = _ray if _ray.is_initialized() else None
        except ImportError:
            ray = None
    if ray is not None:
        workers = int(ray.cluster_resources().get("CPU", args.workers))
        map_batches = _ray_map(ray)
    t0 = time.perf_counter()
    print(f"discover: preset {args.preset}, up to {config.max_tokens} tokens, {len(config.unary)} unary and "
          f"{len(config.binary)} binary operators, {'Ray with %d CPUs' % workers if ray else 'in process'}",
          flush=True)
    result = discover(config, map_batches=map_batches, workers=workers,
                      progress=lambda line: print(line, flush=True))
    ruleset = result.ruleset()
    ruleset.meta["seconds"] = round(time.perf_counter() - t0, 1)
    save_rules(args.out, ruleset)
    print(f"wrote {len(ruleset.rules)} rules to {args.out} ({ruleset.meta['seconds']} s)")
    return 0
