"""Fit a pipeline's learned edge step on folders of photos and reference masks, and print the
coefficients to paste into ``humanseg.models.presets`` (``AUTO_EDGE``, or ``BALANCED_EDGE``
with ``--model balanced``).

    .venv/bin/python bench/fit_edge.py ../shared/eval/dev ../shared/eval/dev-fullbody

The step is fitted on every photo given, with the pipeline's shipped fusion numbers; the
held-out figures come from ``humanseg eval --folds 5``, which fits it again on the folds a
photo is not in.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from humanseg import evaluation
from humanseg.models.matter import PresetMatter
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--model", default="auto")
    args = parser.parse_args()
    pipeline = Pipeline(PipelineSettings())
    pipeline.load(args.model)
    matter = pipeline.resolver.get(args.model)
    if not isinstance(matter, PresetMatter) or matter.spec.edge is None:
        parser.error(f"{args.model} is not a pipeline with a learned edge step")
    pairs = [pair for folder in args.directories for pair in evaluation.find_pairs(folder)]
    items = evaluation.collect(pipeline, matter, pairs)
    params = evaluation.fit_edge(items, matter.spec.params, matter.spec.edge)
    assert params.edge is not None
    print(f"fitted on {len(items)} photos")
    for name in ("others", "standing"):
        print(f"{name}=(")
        values = [f"{v}," for v in getattr(params.edge, name)]
        for start in range(0, len(values), 8):
            print("    " + " ".join(values[start : start + 8]))
        print("),")


if __name__ == "__main__":
    main()
