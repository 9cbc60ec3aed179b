"""``humanseg eval``: score models on folders of images and masks."""

from __future__ import annotations

import sys
from typing import Any

import click

from humanseg.commands.options import fail, model_dir_option, settings_from_flags
from humanseg.errors import HumansegError
from humanseg.transforms import TRANSFORMS


@click.command("eval")
@click.argument(
    "directories", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False)
)
@click.option(
    "--model",
    "names",
    multiple=True,
    help="Model or pipeline to score (repeatable; default: the pipelines and every model "
    "that is pulled).",
)
@click.option(
    "--folds",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="k-fold selection for pipelines: choose their numbers, from a start that knows no "
    "photo, (and fit their learned edge step) on k-1 folds of every folder, score the "
    "held-out fold, rotate. 0: score the numbers they ship with.",
)
@click.option(
    "--fold-salt",
    default="",
    help="Text hashed with each photo's name to make the folds: another salt, another split "
    "(the default split is the one the shipped numbers' figures were measured on).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="SET/NAME",
    help="Leave out a photo whose reference mask is known to be wrong, e.g. dev/110 (its "
    "folder's name and its file name without the suffix; repeatable).",
)
@click.option(
    "--transform",
    type=click.Choice(list(TRANSFORMS)),
    default=None,
    help="Change every photo before the models see it: grayscale (black-and-white "
    "photography), dim (underexposed: 35 % brightness), low-contrast (haze: 40 % "
    "contrast), rotated-90, rotated-180, rotated-270 (turned counter-clockwise, its "
    "reference mask with it: people lying down or upside down), or small (placed in a photo "
    "three times as wide and as high, its reference mask with it: people far off); how much "
    "each one leans on what the dev photos have.",
)
@click.option(
    "--reference/--no-reference",
    default=True,
    show_default=True,
    help="Also score rembg's default model (U²-Net) run exactly as rembg runs it.",
)
@click.option(
    "--person-free/--no-person-free",
    default=True,
    show_default=True,
    help="Also count how many of scikit-image's person-free images each one leaves empty "
    "(needs scikit-image).",
)
@click.option(
    "--worst",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="List each one's worst photos.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--inference-threads", type=click.INT, default=None, help="Threads per inference.")
@model_dir_option
def evaluate(
    directories: tuple[str, ...],
    names: tuple[str, ...],
    folds: int,
    fold_salt: str,
    exclude: tuple[str, ...],
    transform: str | None,
    reference: bool,
    person_free: bool,
    worst: int,
    as_json: bool,
    inference_threads: int | None,
    model_dir: str | None,
) -> None:
    """Score models on each DIRECTORY's images/* against its masks/*.png.

    For each folder, and their mean: mean IoU at 0.5, mean absolute difference, boundary
    F-score, photos left empty and mostly lost (IoU < 0.5), how well the result's confidence
    ranks the bad results (AUROC for IoU < 0.85) and median milliseconds per photo in the
    model. With --folds, pipelines are scored k-fold (held out).
    """
    import json
    from pathlib import Path

    from tqdm import tqdm

    from humanseg import evaluation
    from humanseg.models.catalog import CATALOG
    from humanseg.models.matter import PresetMatter
    from humanseg.models.presets import PRESETS, segmentation_models
    from humanseg.models.store import ModelStore
    from humanseg.pipeline import Pipeline

    settings = settings_from_flags(
        model_dir=model_dir, inference_threads=inference_threads
    ).pipeline
    if not names:
        store = ModelStore.from_settings(settings)
        pulled = [n for n in segmentation_models() if store.is_pulled(CATALOG[n])]
        names = (*PRESETS, *pulled)
    if reference and evaluation.REFERENCE not in names:
        names = (*names, evaluation.REFERENCE)
    pipeline = Pipeline(settings)
    rows: list[evaluation.Score] = []
    notes: list[str] = []
    report: list[dict[str, object]] = []
    try:
        pairs = [
            pair for directory in directories for pair in evaluation.find_pairs(Path(directory))
        ]
        pairs = evaluation.leave_out(pairs, exclude)
        if exclude:
            notes.append(f"left out: {', '.join(exclude)}")
        if transform is not None:
            change = TRANSFORMS[transform].description
            notes.append(f"every photo {change} before the models saw it")
        for name in names:
            if name == evaluation.REFERENCE:
                pipeline.load("u2net")
                matter: Any = evaluation.RembgReference(pipeline)
            else:
                pipeline.load(name)
                matter = pipeline.resolver.get(name)
            held_out = bool(folds) and isinstance(matter, PresetMatter)
            with tqdm(total=len(pairs), desc=name, file=sys.stderr, leave=False) as bar:
                if held_out:
                    collected = evaluation.collect(
                        pipeline, matter, pairs, on_image=bar.update, transform=transform
                    )
                    scores, chosen = evaluation.k_fold(matter, collected, folds, fold_salt)
                    notes.append(
                        f"{name}: numbers chosen per fold: "
                        + "; ".join(evaluation.format_params(p) for p in chosen)
                    )
                else:
                    scores = evaluation.run_matter(
                        pipeline, matter, pairs, on_image=bar.update, transform=transform
                    )
            summary = evaluation.summarise(name, scores, held_out=held_out)
            rows.extend(summary)
            entry: dict[str, object] = {"model": name, "sets": [r.to_dict() for r in summary]}
            if person_free:
                empty, total, found = evaluation.person_free_rate(matter, transform)
                notes.append(
                    f"{name}: {empty}/{total} person-free images left empty"
                    + (f" (a person in: {', '.join(found)})" if found else "")
                )
                entry["person_free"] = {"empty": empty, "total": total, "person_in": found}
            if worst:
                notes.append(evaluation.format_worst(name, scores, worst))
            entry["photos"] = [vars(s) for s in scores]
            report.append(entry)
    except HumansegError as exc:
        fail(exc)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(evaluation.format_table(rows))
        for note in notes:
            click.echo(note)
