"""Build the shipped FastSRB decontamination index from the benchmark's ``fastsrb.json``.

    python -m lawfinder.generate.build_index --fastsrb PATH/TO/fastsrb.json
                                             [--out lawfinder/generate/data/fastsrb_decontamination.msgpack]

Rebuild it whenever the simplifier or the fingerprint design changes; the generator loads the file, so users need
no copy of the benchmark.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .decontaminate import FASTSRB_INDEX, Decontaminator, default_simplify


def build_fastsrb_index(fastsrb_json: str | Path, out: str | Path = FASTSRB_INDEX, simplify="default"
                        ) -> Decontaminator:
    """Every FastSRB equation (the 5 that Flash-ANSR excludes from scoring too: holding out more is safe)."""
    with open(fastsrb_json) as handle:
        equations = json.load(handle)
    if not isinstance(equations, list) or not all(isinstance(e, dict) for e in equations):
        raise ValueError(f"{fastsrb_json}: expected a JSON list of equation objects")
    decontaminator = Decontaminator(simplify=simplify)
    for equation in equations:
        for key in ("id", "formula", "variables"):
            if key not in equation:
                raise ValueError(f"{fastsrb_json}: equation {equation.get('id', '?')!r} lacks the field {key!r}")
        names = [v["name"] for v in equation["variables"]]
        decontaminator.add([equation["formula"]], ids=[equation["id"]], variables=names)
    decontaminator.save(out)
    return decontaminator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fastsrb", required=True, help="path of the benchmark's fastsrb.json (not shipped)")
    parser.add_argument("--out", default=str(FASTSRB_INDEX), help="index file to write (msgpack)")
    parser.add_argument("--no-simplify", action="store_true", help="index the masked formulas unsimplified")
    args = parser.parse_args(argv)
    simplify = None if args.no_simplify else default_simplify()
    if simplify is None and not args.no_simplify:
        print("lawfinder.simplipy.simplify is not available; pass --no-simplify to build without it",
              file=sys.stderr)
        return 2
    index = build_fastsrb_index(args.fastsrb, args.out, simplify=simplify)
    ties = sum(1 for e in index.entries if e["image_hash"] is None)
    print(f"wrote {args.out}: {len(index)} test expressions in {len(index.entries)} indexed forms, "
          f"{len({e['d'] for e in index.entries})} distinct "
          f"variable counts, {ties} matched by signature only (too many tied variables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
