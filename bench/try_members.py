"""Try other members in a pipeline: k-fold held-out scores of subsets of its members and added
ones, on model outputs computed once.

    .venv/bin/python bench/try_members.py ../shared/eval/dev ../shared/eval/dev-fullbody \\
        --model auto --add model=modnet,short_side=224,flip=0,min_person=140 \\
        --agreement 2 --variant 0,1,2 --variant 0,1,2,3 --variant 0,1,3

Every member of ``--model`` and every ``--add`` one (``Member``'s fields as ``key=value``) runs
once on each photo; each ``--variant`` (indices into that list: the pipeline's members first,
then the added ones, in order) is then fused, its numbers chosen and its edge step fitted on
the folds a photo is not in, as ``humanseg eval --folds`` does for the pipeline itself, from
the same neutral start (``evaluation.neutral``: every weight 1, threshold 0.5…).
``--agreement`` (not 0) opens the agreement power to the selection (0: as the pipeline
has it, open for ``balanced`` and ``quality``, shut for the others). What was tried with it
is in docs/quality.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path

from humanseg import evaluation
from humanseg.models.edges import feature_count
from humanseg.models.matter import PresetMatter
from humanseg.models.presets import PRESETS, Member, PresetSpec
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings


def parse_member(text: str) -> Member:
    """``model=modnet,view=photo,short_side=224,flip=0`` as a ``Member``."""
    hints = typing.get_type_hints(Member)
    fields: dict[str, object] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in hints:
            raise argparse.ArgumentTypeError(f"{key!r} is not a field of Member")
        hint = str(hints[key])
        if key in ("model", "view"):
            fields[key] = value
        elif "bool" in hint:
            fields[key] = value.lower() in ("1", "true", "yes")
        elif "int" in hint:
            fields[key] = None if value.lower() == "none" else int(value)
        else:
            fields[key] = float(value)
    if "model" not in fields:
        raise argparse.ArgumentTypeError(f"{text!r}: model=... is required")
    try:
        return Member(**fields)  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError) as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from error


def parse_variant(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(index) for index in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: member indices, e.g. 0,1,3") from error


def describe(member: Member) -> str:
    """The member's model and the fields it sets away from their defaults."""
    changed = [
        f"{field.name}={getattr(member, field.name)}"
        for field in dataclasses.fields(member)
        if field.name != "model" and getattr(member, field.name) != field.default
    ]
    return " ".join([member.model, *changed])


def variant_spec(base: PresetSpec, members: tuple[Member, ...], agreement: float) -> PresetSpec:
    edge = None
    if base.edge is not None:  # fitted again on the folds: only its shape matters here
        zero = (0.0,) * (feature_count(len(members)) + 1)
        edge = dataclasses.replace(base.edge, others=zero, standing=zero)
    return dataclasses.replace(
        base,
        members=members,
        agreement=agreement or base.agreement,
        edge=edge,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--model", default="auto", choices=sorted(PRESETS))
    parser.add_argument("--add", type=parse_member, action="append", default=[])
    parser.add_argument("--variant", type=parse_variant, action="append", required=True)
    parser.add_argument("--agreement", type=float, default=0.0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold-salt", default="")
    args = parser.parse_args()
    base = PRESETS[args.model]
    members = (*base.members, *args.add)
    for variant in args.variant:
        if not variant or any(not 0 <= index < len(members) for index in variant):
            parser.error(f"variant {variant}: indices 0 … {len(members) - 1}")
    pipeline = Pipeline(PipelineSettings())
    pipeline.load(args.model)
    loaded = pipeline.resolver.get(args.model)
    assert isinstance(loaded, PresetMatter)
    every = PresetMatter(
        dataclasses.replace(base, members=members, edge=None),
        pipeline.resolver.registry,
        pipeline.resolver.faces,
    )
    pairs = [pair for folder in args.directories for pair in evaluation.find_pairs(folder)]
    items = evaluation.collect(pipeline, every, pairs)
    for index, member in enumerate(members):
        print(f"member {index}: {describe(member)}")
    rows = []
    for variant in args.variant:
        spec = variant_spec(base, tuple(members[i] for i in variant), args.agreement)
        matter = PresetMatter(spec, pipeline.resolver.registry, pipeline.resolver.faces)
        subset = [
            dataclasses.replace(
                item,
                evidence=dataclasses.replace(
                    item.evidence,
                    members=tuple(item.evidence.members[i] for i in variant),
                ),
            )
            for item in items
        ]
        scores, chosen = evaluation.k_fold(matter, subset, args.folds, args.fold_salt)
        name = f"{args.model}[{','.join(map(str, variant))}]"
        print(name)
        for params in chosen:
            print("   ", evaluation.format_params(params))
        rows.extend(evaluation.summarise(name, scores, held_out=True))
    print(evaluation.format_table(rows))


if __name__ == "__main__":
    main()
