"""Choose a pipeline's numbers on folders of photos and reference masks, as ``humanseg eval
--folds`` chooses them on each fold, and print them to paste into
``humanseg.models.presets``: the fusion's (from the neutral start, ``evaluation.neutral``),
then, for a pipeline with a learned edge step, its coefficients (``AUTO_EDGE``,
``BALANCED_EDGE``, ``QUALITY_EDGE``).

    .venv/bin/python bench/choose_numbers.py ../shared/eval/dev ../shared/eval/dev-fullbody \
        --model auto

The shipped numbers are the ones this chooses on every photo of both dev sets; the held-out
figures come from ``humanseg eval --folds 5``, which chooses them again on the folds a photo
is not in.
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
    if not isinstance(matter, PresetMatter):
        parser.error(f"{args.model} is not a pipeline")
    pairs = [pair for folder in args.directories for pair in evaluation.find_pairs(folder)]
    items = evaluation.collect(pipeline, matter, pairs)
    params = evaluation.choose_on(items, matter.spec)
    print(f"chosen on {len(items)} photos: {evaluation.format_params(params)}")
    if matter.spec.edge is None:
        return
    params = evaluation.fit_edge(items, params, matter.spec.edge)
    assert params.edge is not None
    for name in ("others", "standing"):
        print(f"{name}=(")
        values = [f"{v}," for v in getattr(params.edge, name)]
        for start in range(0, len(values), 8):
            print("    " + " ".join(values[start : start + 8]))
        print("),")


if __name__ == "__main__":
    main()
