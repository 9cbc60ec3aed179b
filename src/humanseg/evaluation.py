"""``humanseg eval``: score models and pipelines on folders of photos and reference masks.

Each folder holds ``images/NAME.{jpg,jpeg,png,bmp}`` and ``masks/NAME.png`` (255 = person).
Each photo is decoded as an API request decodes it and goes through the same matter (model or
pipeline); the matte is compared with the mask at the mask's size.

With ``folds`` (k-fold selection), a pipeline's numbers (member weights, threshold,
sharpening, the share under which separate parts are dropped) are chosen on k−1 folds of
every folder and the held-out fold is scored with them, rotating, so each photo is scored by
numbers chosen without it. The selection starts from numbers that know no photo (``neutral``),
not from the shipped ones, which were chosen on every photo. The models run once per photo
(``PresetMatter.evidence``); each candidate only fuses their maps again.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from humanseg import imaging, matting, scoring
from humanseg.errors import ErrorCode, error
from humanseg.models import edges, fusion
from humanseg.models.edges import EdgeModel
from humanseg.models.fusion import Evidence, FusionParams, fuse
from humanseg.models.matter import Matte, Matter, PresetMatter
from humanseg.models.presets import PresetSpec
from humanseg.pipeline import Pipeline
from humanseg.transforms import TRANSFORMS, transformed, transformed_mask

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
BAD_IOU = 0.85  # a result under this IoU is "bad": the confidence should rank it low
LOST_IOU = 0.5  # a person mostly lost
EMPTY_FRACTION = 0.001  # a matte with fewer person pixels than this is empty
REFERENCE = "rembg-u2net"  # rembg's default model, run exactly as rembg runs it

THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
SHARPENING = (1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0)
WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
PARTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)  # ``FusionParams.parts``
AGREEMENT = (0.0, 1.0, 2.0, 4.0)  # ``FusionParams.agreement``


@dataclass(frozen=True)
class Pair:
    set: str
    name: str
    image: Path
    mask: Path


@dataclass(frozen=True)
class PhotoScore:
    set: str
    name: str
    iou: float
    mad: float
    boundary_f: float
    ms: float
    confidence: float | None
    empty: bool


@dataclass(frozen=True)
class Score:
    model: str
    set: str
    images: int
    miou: float
    mad: float
    boundary_f: float
    empty: int  # photos of people that got an empty matte
    lost: int  # photos of people with IoU under LOST_IOU
    auroc: float | None  # how well the confidence tells results under BAD_IOU from the rest
    median_ms: float
    held_out: bool  # True: k-fold, every photo scored with numbers chosen without it

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def find_pairs(directory: Path) -> list[Pair]:
    images, masks = directory / "images", directory / "masks"
    if not images.is_dir() or not masks.is_dir():
        raise error(ErrorCode.INVALID_REQUEST, f"{directory} needs the folders images/ and masks/.")
    pairs = [
        Pair(directory.name, path.stem, path, masks / f"{path.stem}.png")
        for path in sorted(images.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES and (masks / f"{path.stem}.png").is_file()
    ]
    if not pairs:
        raise error(
            ErrorCode.INVALID_REQUEST, f"{directory} has no image with a matching masks/NAME.png."
        )
    return pairs


def leave_out(pairs: Sequence[Pair], names: Collection[str]) -> list[Pair]:
    """``pairs`` without the photos named ``SET/NAME`` (e.g. a reference mask known to be
    wrong); a name that matches no photo is an error, so a typo never goes unnoticed."""
    known = {f"{pair.set}/{pair.name}" for pair in pairs}
    unknown = sorted(set(names) - known)
    if unknown:
        raise error(
            ErrorCode.INVALID_REQUEST,
            f"No photo {', '.join(unknown)} in these folders; name one as SET/NAME: its "
            "folder's name and its file name without the suffix, e.g. dev/110.",
        )
    return [pair for pair in pairs if f"{pair.set}/{pair.name}" not in names]


def load_mask(path: Path) -> np.ndarray:
    with Image.open(path) as mask:
        return np.asarray(mask.convert("L"))


def matte_at(matte: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The matte resized (bilinear) to a reference mask's (height, width)."""
    if matte.shape == shape:
        return matte
    return cv2.resize(matte, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def is_empty(matte: np.ndarray) -> bool:
    return float(np.count_nonzero(matte >= 128)) < EMPTY_FRACTION * matte.size


def fold_of(pair: Pair, folds: int, salt: str = "") -> int:
    """A photo's fold: from its name's hash, so the split is the same on every run; another
    ``salt`` gives another split (to see how much the held-out figures owe to one split)."""
    digest = hashlib.sha256(f"{salt}{pair.set}/{pair.name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % folds


class Photo:
    """A photo decoded as the API decodes it for a matte, and its reference mask; with
    ``transform`` (a name in ``humanseg.transforms.TRANSFORMS``), changed so once decoded."""

    def __init__(
        self, pipeline: Pipeline, pair: Pair, matter: Matter, *, transform: str | None = None
    ) -> None:
        settings = pipeline.settings
        self.refine = settings.refine_edges  # as the API would: full pixels to refine with
        # a photo placed in a larger canvas is decoded whole: its place in the canvas is
        # counted in its own pixels, as its reference mask's is in the mask's
        placed = transform is not None and TRANSFORMS[transform].canvas != 1.0
        decoded = imaging.decode(
            pair.image.read_bytes(),
            max_side=settings.max_image_side,
            max_pixels=settings.max_image_pixels,
            draft_size=None if self.refine or placed else matter.input_size,
        )
        self.pair = pair
        self.rgb, self.alpha, self.size = decoded.rgb, decoded.alpha, decoded.size
        self.truth = load_mask(pair.mask)
        if transform is not None:
            self.rgb = transformed(np.asarray(self.rgb), transform)
            self.truth = transformed_mask(self.truth, transform)
            if self.alpha is not None:
                self.alpha = transformed_mask(self.alpha, transform)
            if placed:
                self.size = (self.rgb.shape[1], self.rgb.shape[0])
            elif TRANSFORMS[transform].turns % 2:
                self.size = (self.size[1], self.size[0])

    def score(self, matte: Matte, ms: float, *, refine: bool | None = None) -> PhotoScore:
        """The matte as the API would answer it (refined, with the photo's own alpha), scored
        against the reference mask at the mask's size. ``refine`` overrides the photo's own
        setting (e.g. for a matte that another edge step has already refined)."""
        alpha = matte.alpha
        if self.refine if refine is None else refine:
            alpha = matting.refine_matte(np.asarray(self.rgb), alpha)
        alpha = matting.apply_own_alpha(alpha, self.alpha)
        resized = matte_at(alpha, self.truth.shape)
        return PhotoScore(
            set=self.pair.set,
            name=self.pair.name,
            iou=scoring.iou(resized, self.truth),
            mad=scoring.mad(resized, self.truth),
            boundary_f=scoring.boundary_f(resized, self.truth),
            ms=ms,
            confidence=matte.confidence,
            empty=is_empty(alpha),
        )


def run_matter(
    pipeline: Pipeline,
    matter: Matter,
    pairs: Sequence[Pair],
    *,
    on_image: Callable[[], None] | None = None,
    transform: str | None = None,
) -> list[PhotoScore]:
    """Every photo through ``matter`` as the API runs it (decode, matte), scored."""
    scores = []
    for pair in pairs:
        photo = Photo(pipeline, pair, matter, transform=transform)
        start = time.perf_counter()
        matte = matter.matte(photo.rgb, photo.size)
        ms = (time.perf_counter() - start) * 1000.0
        scores.append(photo.score(matte, ms))
        if on_image is not None:
            on_image()
    return scores


@dataclass
class Collected:
    """A pipeline's evidence for one photo, with what scoring it needs."""

    photo: Photo
    evidence: Evidence
    ms: float  # the models' time
    small_truth: np.ndarray  # the mask at the fused map's size, float32 in [0, 1]


def collect(
    pipeline: Pipeline,
    matter: PresetMatter,
    pairs: Sequence[Pair],
    *,
    on_image: Callable[[], None] | None = None,
    transform: str | None = None,
) -> list[Collected]:
    out = []
    for pair in pairs:
        photo = Photo(pipeline, pair, matter, transform=transform)
        start = time.perf_counter()
        evidence = matter.evidence(photo.rgb, every_member=True)
        ms = (time.perf_counter() - start) * 1000.0
        truth = cv2.resize(
            photo.truth.astype(np.float32) / 255.0, evidence.size, interpolation=cv2.INTER_AREA
        )
        out.append(Collected(photo, evidence, ms, truth))
        if on_image is not None:
            on_image()
    return out


def _value(item: Collected, params: FusionParams) -> float:
    """IoU − MAD of one photo's fusion, at the fused map's size."""
    fused = fuse(item.evidence, params)
    truth = item.small_truth >= 0.5
    person = fused >= 0.5
    union = np.count_nonzero(person | truth)
    iou = 1.0 if union == 0 else np.count_nonzero(person & truth) / union
    return iou - float(np.abs(fused - item.small_truth).mean())


class _Objective:
    """Mean over the folders of (mIoU − MAD), at the fused map's size: cheap enough to try
    hundreds of candidates. Each photo's value is kept per set of numbers, so coordinate
    ascent never fuses a photo twice with the same ones."""

    def __init__(self, items: Sequence[Collected]) -> None:
        self.items = items
        self.memo: dict[tuple[int, FusionParams], float] = {}

    def __call__(self, params: FusionParams) -> float:
        per_set: dict[str, list[float]] = {}
        for index, item in enumerate(self.items):
            key = (index, params)
            value = self.memo.get(key)
            if value is None:
                value = self.memo[key] = _value(item, params)
            per_set.setdefault(item.photo.pair.set, []).append(value)
        return float(np.mean([np.mean(values) for values in per_set.values()]))


Key = str | int  # a ``FusionParams`` field's name, or a member's index for its weight


def _with(params: FusionParams, key: Key, value: float) -> FusionParams:
    """``params`` with its number ``key`` (a field's name, or a member's index for its
    weight) set to ``value``."""
    if isinstance(key, str):
        return replace(params, **{key: value})
    weights = list(params.weights)
    weights[key] = value
    return replace(params, weights=tuple(weights))


def neutral(params: FusionParams, fixed: Collection[Key] = ()) -> FusionParams:
    """Where the selection starts: numbers that know nothing of any photo (each member's
    weight 1, threshold 0.5, sharpening 4, every part kept, no weighing by agreement), but
    for the numbers in ``fixed``, which keep ``params``'s. Started from the shipped numbers,
    chosen on every photo, a fold's selection would know its held-out photos through them,
    and its held-out figures would flatter the pipeline."""
    weights = tuple(
        weight if index in fixed else 1.0 for index, weight in enumerate(params.weights)
    )
    return FusionParams(
        weights=weights,
        threshold=0.5,
        sharpen=4.0,
        parts=0.0,
        agreement=params.agreement if "agreement" in fixed else 0.0,
    )


def choose(
    items: Sequence[Collected],
    start: FusionParams,
    rounds: int = 3,
    fixed: Collection[Key] = (),
) -> FusionParams:
    """Coordinate ascent over the fusion's numbers, from ``start``, on ``items``. The first
    member (the guide on the photo) keeps weight 1: the others' weights are relative to it.
    The numbers named in ``fixed`` keep their start value."""
    own: list[tuple[Key, Sequence[float]]] = [
        ("threshold", THRESHOLDS),
        ("sharpen", SHARPENING),
        ("parts", PARTS),
        ("agreement", AGREEMENT),
        *((index, WEIGHTS) for index in range(1, len(start.weights))),
    ]
    start = replace(start, edge=None)  # the edge step is fitted after (``fit_edge``)
    objective = _Objective(items)
    grids = [(key, grid) for key, grid in own if key not in fixed]
    return _ascend(objective, start, grids, rounds)


def fit_edge(items: Sequence[Collected], params: FusionParams, edge: EdgeModel) -> FusionParams:
    """``params`` with the learned edge step's coefficients (``edge``'s shape) fitted on
    ``items``: which side of the outline of their fusion with ``params`` each pixel near it
    is on, in their reference masks. Someone standing and the others are fitted apart; with
    no standing person among ``items``, theirs are the others'."""
    groups: dict[bool, tuple[list[np.ndarray], list[np.ndarray]]] = {
        False: ([], []),
        True: ([], []),
    }
    for item in items:
        found = fusion.edge_rows(item.evidence, params, edge.band)
        if found is None:
            continue
        where, rows = found
        standing = item.evidence.aspect >= edge.standing_from
        groups[standing][0].append(rows)
        groups[standing][1].append(item.small_truth.ravel()[where] >= 0.5)
    fitted = {key: edges.fit(*group) if group[0] else None for key, group in groups.items()}
    others = fitted[False] or fitted[True] or edge.others
    standing = fitted[True] or others
    return replace(params, edge=replace(edge, others=others, standing=standing))


def _ascend(
    objective: _Objective,
    start: FusionParams,
    grids: Sequence[tuple[Key, Sequence[float]]],
    rounds: int,
) -> FusionParams:
    best, best_value = start, objective(start)
    for _ in range(rounds):
        improved = False
        for key, grid in grids:
            for value in grid:
                params = _with(best, key, value)
                if params == best:
                    continue
                value_here = objective(params)
                if value_here > best_value + 1e-6:
                    best, best_value, improved = params, value_here, True
        if not improved:
            break
    return best


def format_params(params: FusionParams) -> str:
    text = f"weights {params.weights}, threshold {params.threshold}, sharpen {params.sharpen}"
    if params.parts:
        text += f", parts {params.parts}"
    if params.agreement:
        text += f", agreement {params.agreement}"
    if params.edge is not None:
        text += "; the edge step fitted"
    return text


def score_collected(
    matter: PresetMatter, items: Sequence[Collected], params: FusionParams
) -> list[PhotoScore]:
    scores = []
    for item in items:
        start = time.perf_counter()
        matte = matter.matte_from(item.evidence, item.photo.size, params)
        ms = item.ms + (time.perf_counter() - start) * 1000.0
        scores.append(item.photo.score(matte, ms))
    return scores


def choose_on(items: Sequence[Collected], spec: PresetSpec) -> FusionParams:
    """A pipeline's numbers chosen on ``items`` from the neutral start, as k-fold selection
    chooses them on each fold's training photos and as the shipped ones were chosen on every
    photo of the dev sets (``bench/choose_numbers.py``), its edge step not yet fitted."""
    return choose(items, neutral(spec.params, spec.fixed), fixed=spec.fixed)


def k_fold(
    matter: PresetMatter, items: Sequence[Collected], folds: int, salt: str = ""
) -> tuple[list[PhotoScore], list[FusionParams]]:
    """Held-out scores of every photo, each with numbers chosen on the other folds, and the
    numbers each fold chose."""
    scores: list[PhotoScore] = []
    chosen = []
    for fold in range(folds):
        training = [item for item in items if fold_of(item.photo.pair, folds, salt) != fold]
        held_out = [item for item in items if fold_of(item.photo.pair, folds, salt) == fold]
        params = choose_on(training, matter.spec)
        if matter.spec.edge is not None:
            params = fit_edge(training, params, matter.spec.edge)
        chosen.append(params)
        scores.extend(score_collected(matter, held_out, params))
    order = {(item.photo.pair.set, item.photo.pair.name): i for i, item in enumerate(items)}
    scores.sort(key=lambda s: order[(s.set, s.name)])
    return scores, chosen


def auroc(scores: Sequence[PhotoScore], bad_iou: float = BAD_IOU) -> float | None:
    """The probability that a bad result (IoU under ``bad_iou``) has a lower confidence than a
    good one (ties count half); None without both kinds or without confidences."""
    bad = [s.confidence for s in scores if s.iou < bad_iou and s.confidence is not None]
    good = [s.confidence for s in scores if s.iou >= bad_iou and s.confidence is not None]
    if not bad or not good:
        return None
    wins = sum((b < g) + 0.5 * (b == g) for b in bad for g in good)
    return float(wins / (len(bad) * len(good)))


def summarise(model: str, scores: Sequence[PhotoScore], *, held_out: bool) -> list[Score]:
    """A row per folder and, with several, a row for their mean (of the folders' means)."""
    sets: dict[str, list[PhotoScore]] = {}
    for s in scores:
        sets.setdefault(s.set, []).append(s)
    rows = [
        Score(
            model=model,
            set=name,
            images=len(group),
            miou=float(np.mean([s.iou for s in group])),
            mad=float(np.mean([s.mad for s in group])),
            boundary_f=float(np.mean([s.boundary_f for s in group])),
            empty=sum(s.empty for s in group),
            lost=sum(s.iou < LOST_IOU for s in group),
            auroc=auroc(group),
            median_ms=float(statistics.median(s.ms for s in group)),
            held_out=held_out,
        )
        for name, group in sets.items()
    ]
    if len(rows) > 1:
        aurocs = [r.auroc for r in rows if r.auroc is not None]
        rows.append(
            Score(
                model=model,
                set="mean",
                images=sum(r.images for r in rows),
                miou=float(np.mean([r.miou for r in rows])),
                mad=float(np.mean([r.mad for r in rows])),
                boundary_f=float(np.mean([r.boundary_f for r in rows])),
                empty=sum(r.empty for r in rows),
                lost=sum(r.lost for r in rows),
                auroc=float(np.mean(aurocs)) if aurocs else None,
                median_ms=float(statistics.median(s.ms for s in scores)),
                held_out=held_out,
            )
        )
    return rows


def format_table(scores: Sequence[Score]) -> str:
    header = (
        f"| model | set | images | mIoU@0.5 | MAD | boundary F ({scoring.BOUNDARY_TOLERANCE_PX} px)"
        f" | empty | IoU<{LOST_IOU} | AUROC (IoU<{BAD_IOU}) | median ms | held out |"
    )
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in scores:
        auroc_text = "–" if s.auroc is None else f"{s.auroc:.3f}"
        lines.append(
            f"| {s.model} | {s.set} | {s.images} | {s.miou:.3f} | {s.mad:.4f} "
            f"| {s.boundary_f:.3f} | {s.empty} | {s.lost} | {auroc_text} | {s.median_ms:.0f} "
            f"| {'k-fold' if s.held_out else 'no'} |"
        )
    return "\n".join(lines)


def format_worst(model: str, scores: Sequence[PhotoScore], count: int) -> str:
    worst = sorted(scores, key=lambda s: s.iou)[:count]
    lines = [f"{model}: the {len(worst)} worst photos"]
    for s in worst:
        confidence = "–" if s.confidence is None else f"{s.confidence:.2f}"
        empty = " EMPTY" if s.empty else ""
        lines.append(
            f"  {s.set}/{s.name}: IoU {s.iou:.3f}, MAD {s.mad:.4f}, confidence {confidence}{empty}"
        )
    return "\n".join(lines)


class RembgReference:
    """rembg's default model (U²-Net) run exactly as rembg runs it: the photo resized to
    320×320 with Lanczos, divided by its maximum, ImageNet-normalised; the first output
    min-max stretched and resized back with Lanczos. For comparison only."""

    name = REFERENCE
    input_size = (320, 320)

    def __init__(self, pipeline: Pipeline) -> None:
        self.segmenter = pipeline.registry.get("u2net")

    def matte(self, rgb: imaging.Picture, size: tuple[int, int]) -> Matte:
        image = imaging.as_image(rgb).convert("RGB").resize((320, 320), Image.Resampling.LANCZOS)
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels / max(float(pixels.max()), 1e-6)
        mean = np.array((0.485, 0.456, 0.406), dtype=np.float32)
        std = np.array((0.229, 0.224, 0.225), dtype=np.float32)
        tensor = ((pixels - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
        prediction = self.segmenter.predict_tensor(np.ascontiguousarray(tensor))
        low, high = float(prediction.min()), float(prediction.max())
        stretched = (prediction - low) / max(high - low, 1e-6)
        mask = Image.fromarray((stretched * 255).astype(np.uint8), "L")
        alpha = np.asarray(mask.resize(size, Image.Resampling.LANCZOS))
        return Matte(alpha, None)  # rembg gives no estimate of its own


def person_free_images() -> list[tuple[str, np.ndarray]]:
    """Standard images that scikit-image ships with nobody in them (objects, animals, a
    rocket, space, textures): a pipeline should answer each with an empty matte."""
    from skimage import data

    names = (
        "coffee", "chelsea", "rocket", "hubble_deep_field", "clock", "horse", "coins",
        "moon", "page", "text", "brick", "grass", "gravel", "logo", "colorwheel",
        "immunohistochemistry", "retina", "cell", "microaneurysms", "stereo_motorcycle",
        "checkerboard", "shepp_logan_phantom",
    )  # fmt: skip
    images = []
    for name in names:
        loaded = getattr(data, name)()
        image = np.asarray(loaded[0] if isinstance(loaded, tuple) else loaded)
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        if image.dtype != np.uint8:
            image = (255 * (image - image.min()) / max(1e-6, float(np.ptp(image)))).astype(np.uint8)
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        images.append((name, np.ascontiguousarray(image[..., :3])))
    return images


def person_free_rate(matter: Matter, transform: str | None = None) -> tuple[int, int, list[str]]:
    """(empty, total, names of the images that got a person) over ``person_free_images``, each
    changed by ``transform`` first when given."""
    found = []
    images = person_free_images()
    for name, rgb in images:
        if transform is not None:
            rgb = transformed(rgb, transform)
        matte = matter.matte(rgb, (rgb.shape[1], rgb.shape[0]))
        if not is_empty(matte.alpha):
            found.append(name)
    return len(images) - len(found), len(images), found
