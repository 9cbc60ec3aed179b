"""Named pipelines (``auto``, ``balanced``, ``quality``): which catalog models they fuse, and
their numbers.

How a pipeline makes its matte (``humanseg.models.matter.PresetMatter``):

1. the ``guide``, a person-specific model, predicts on the photo (and, with ``flip``, on its
   mirror image, averaged back): where is the person?
2. the person gate looks at a square around the region the guide found (enlarged by
   ``Gate.margin``), and at the whole photo when in doubt, with the pose detector and the
   face detector, then (still in doubt) at squares around it with the whole-body landmark
   model's pose flag, and (a dim or flat photo: ``stretch_from``) at all of it again with its
   levels stretched; the highest verdict, each mapped linearly from its range to [0, 1],
   scales the matte, so a cat or a cup gets an empty matte instead of a confident cut-out.
   Any one look suffices: an empty matte for a person is the worst answer (recall first). A
   dim or flat photo that passes is then seen by every model with its levels stretched; a
   person the pose detector sees lying down or upside down (``Gate.turn_from``; when the
   guide sees nobody, the detector still looks at the whole photo for them) is seen by every
   model with the photo turned upright, and the maps are turned back;
3. each ``Member`` predicts either on the photo or on the guide's person box widened by its
   margin (a close-up: a small person gets the model's whole input, and the guide's own
   close-up is the "zoomed pass"); general (not person-specific) members only count near
   the person the guide found, so cars, dogs and furniture stay out; a member with weight 0
   is not run;
4. ``humanseg.models.fusion.fuse``: the maps are averaged with their weights (a close-up only
   inside its box), sharpened around ``threshold``, which then maps to 0.5, stripped of
   separate parts smaller than ``parts`` times the largest one, decided again near the
   outline by the learned ``edge`` step (``humanseg.models.edges``; every pipeline but
   ``quality-rvm``), and scaled by the gate; a gate in doubt with a person model that sees
   nobody gives an empty matte.

Every number here was chosen by k-fold selection on both dev sets (``humanseg eval --folds``);
see the docs' quality page for the held-out figures and the commands that give them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from humanseg.errors import ErrorCode, error
from humanseg.models import availability
from humanseg.models.catalog import CATALOG, ModelSpec, get_spec
from humanseg.models.edges import EdgeModel
from humanseg.models.fusion import FusionParams
from humanseg.models.store import ModelStore
from humanseg.settings import PipelineSettings


@dataclass(frozen=True)
class Member:
    model: str  # a catalog segmentation model
    weight: float = 1.0
    # "photo": the whole photo; "box": the person's box (a close-up, stretched to the model's
    # input); "square": the square around that box (undistorted; black past the photo)
    view: Literal["photo", "box", "square"] = "photo"
    margin: float = 0.0  # for a close-up: each side of the person's box widened by this
    flip: bool = True  # also on the mirror image, averaged back (twice the time)
    # a model with a dynamic input size: the short side of its input, instead of its own
    short_side: int | None = None
    # not run where the person's box would be under this many pixels high in the model's
    # input (``seen_height``): too small for the model to add anything but its errors. It
    # still runs while the gate doubts: a person model's "nobody" is the veto that keeps a
    # person-free image empty then (``fusion._doubted``)
    min_person: int | None = None

    def __post_init__(self) -> None:
        if self.short_side is not None and CATALOG[self.model].preprocess.short_side is None:
            raise ValueError(f"{self.model} has a fixed input size: no short_side for it")
        if self.min_person is not None and self.min_person <= 0:
            raise ValueError("min_person is a height in pixels: over 0, or None")

    def input_size(self, model: tuple[int, int]) -> tuple[int, int]:
        """The typical input this member gives a model whose own is ``model``."""
        own = CATALOG[self.model].preprocess.short_side
        if self.short_side is None or own is None:
            return model
        return (round(model[0] * self.short_side / own), round(model[1] * self.short_side / own))

    def seen_height(self, person: int, view: tuple[int, int], model: ModelSpec) -> float:
        """How many pixels high a person ``person`` pixels high in a view of ``view`` (width,
        height; the same pixels) is in ``model``'s input for that view."""
        width, height = view
        input_height = model.preprocess.input_size(width, height, self.short_side)[1]
        return person * input_height / max(height, 1)


@dataclass(frozen=True)
class Gate:
    """Is there a person? Three looks, any of which suffices.

    Built for recall first: every photo of a person in both dev sets passes with a factor of 1
    (the lowest pose score among them is 0.51), and a face seen from close by (a hand at the
    face: where the pose detector fails) passes on its own. The pose range starts at 0.4
    because flat, non-photographic images (a logo, a moon, a micrograph) score up to 0.45–0.57
    with the pose detector, while no face there scores above 0.77.

    Both detectors lean on colour: in black-and-white photos they miss people that the person
    models still see. So when they doubt, the whole-body landmark model (BlazePose) looks at
    squares around the guide's region (each side widened by each of ``landmark_margins``):
    its pose flag, the lower of the square's and its mirror image's, is the third verdict.
    Every grayscale copy of a dev photo that the detectors doubt flags 0.80 or more on some
    square; the person-free images flag at most 0.48 (a horse's silhouette). A dim or flat
    photo (``PresetSpec.stretch_from``) still in doubt gets all three looks again with each
    channel's levels stretched to the full range.

    The guide sees the whole photo squeezed into its 256 px square: in a wide photo, or in
    black and white, it can see nobody at all where the face detector, looking at square
    tiles of the photo, still finds a face. A face at the top of ``face_range`` whose person
    the guide then sees close up (the region below the face, about a body high) lets the
    photo through (a dim or flat photo's tiles are looked at stretched too); the person-free
    images score at most 0.60 in those tiles.

    A person a third as high as the photo is too small for the guide at 256 px, and often
    for the face detector too: where both see nobody, the guide itself looks at square
    tiles of the photo (as large as its short side, then half as large). What it finds there
    must satisfy the pose or the face detector close up; the landmark model's pose flag, high
    on a cat or a logo seen close, does not count there. Where the guide sees only a speck of
    such a person, the tiles are looked at too, and what they show replaces the speck if it
    passes that stricter gate.

    The pose detector also says which way up its person is (two of its key points: the hips'
    centre and a point beyond the head). The person models were trained on upright people and
    miss much of someone lying down, or upside down: such a photo is matted turned upright.
    No photo of both dev sets as it is gets turned; of their copies turned by a quarter turn
    either way or upside down, 472 of 477 are turned upright, 4 are left as they are (the
    detector not sure) and one upside-down copy is turned only a quarter turn.
    """

    detector: str | None = "pose-detection"
    margin: float = 0.2  # the square around the guide's region, widened by this
    presence_range: tuple[float, float] = (0.4, 0.5)  # pose score → factor 0 … 1
    faces: bool = True  # the face detector's verdict counts too
    face_range: tuple[float, float] = (0.75, 0.85)  # face score → factor 0 … 1
    # where the guide sees nobody, the face detector looks at square tiles of the photo
    face_tiles: bool = True
    # where the guide (and the face tiles) still see nobody, the guide looks at square tiles
    # of the photo; a person it finds there passes only the pose detector's stricter range
    # (person-free images score up to 0.72 on the squares around what it finds, people
    # a third as high as the photo mostly 0.8 or more) or the face detector's
    guide_tiles: bool = True
    # the guide's tiles: squares of these shares of the photo's short side, largest first
    guide_tile_sides: tuple[float, ...] = (1.0, 0.5)
    # the guide's tiles are looked at too where it sees a region whose longer side is under
    # this share of the photo's short side: a speck of a small person (every person of both
    # dev sets as they are spans 0.29 or more; a third as high as the photo, 0.02 and up)
    guide_tiles_below: float = 0.25
    tiled_pose_range: tuple[float, float] = (0.7, 0.8)
    landmarks: str | None = "pose-segmentation"  # a model with a pose flag, or None
    landmark_margins: tuple[float, ...] = (0.1, 0.25, 0.5)
    landmark_range: tuple[float, float] = (0.6, 0.8)  # pose flag → factor 0 … 1
    # A person the pose detector is sure of (its score at the top of ``presence_range``) and
    # sees turned this many degrees or more from upright (lying down, upside down) is matted
    # upright: the models, trained on upright people, see the photo turned, and the matte is
    # turned back. None: never.
    turn_from: float | None = 60.0


@dataclass(frozen=True)
class PresetSpec:
    name: str
    description: str
    guide: str  # the person-specific model whose map says where the person is
    members: tuple[Member, ...]
    threshold: float = 0.5
    sharpen: float = 4.0
    parts: float = 0.0  # ``FusionParams.parts``: smaller separate parts are dropped
    agreement: float = 0.0  # ``FusionParams.agreement``: a member's weight follows its say
    gate: Gate = field(default_factory=Gate)
    # a dim or flat photo: its brightness levels (1st to 99th percentile) span so little that
    # stretching them to the full range multiplies them by this or more; the gate looks at it
    # stretched too when in doubt, and once it has let it through, every model sees it so
    stretch_from: float = 2.0
    # the learned edge step (``humanseg.models.edges``): its coefficients are fitted, like
    # the other numbers, by ``humanseg eval --folds`` on the folds a photo is not in
    edge: EdgeModel | None = None

    @property
    def models(self) -> tuple[str, ...]:
        """The catalog models this pipeline runs (the face detector, which the pipeline
        shares with ID photos, is in ``needs``)."""
        names: list[str] = []
        gate = (self.gate.detector, self.gate.landmarks)
        for name in (self.guide, *(m.model for m in self.members), *gate):
            if name and name not in names:
                names.append(name)
        return tuple(names)

    @property
    def needs(self) -> tuple[str, ...]:
        """Every catalog model this pipeline needs pulled."""
        return (*self.models, "face-detection") if self.gate.faces else self.models

    @property
    def params(self) -> FusionParams:
        return FusionParams(
            weights=tuple(m.weight for m in self.members),
            threshold=self.threshold,
            sharpen=self.sharpen,
            parts=self.parts,
            agreement=self.agreement,
            edge=self.edge,
        )

    @property
    def fixed(self) -> frozenset[int | str]:
        """The numbers that k-fold selection leaves as they are (a member's index for its
        weight): for a pipeline that does not weigh its members by agreement (``agreement``
        0), that."""
        return frozenset() if self.agreement else frozenset({"agreement"})

    @property
    def opt_in(self) -> bool:
        return any(CATALOG[name].opt_in for name in self.models)


# ``auto``'s learned edge step, fitted on every photo of both dev sets with its fusion numbers
# (``bench/choose_numbers.py`` prints them); the figures in the docs are k-fold held out, the step
# fitted on the other folds each time. The order is ``humanseg.models.edges.features``'.
# fmt: off
AUTO_EDGE = EdgeModel(
    others=(
        1.302288, -0.465516, 1.348661, 0.669777, 1.160544, 0.842311, 0.395148, -0.275234,
        0.522196, -5.316419, 0.454251, -0.60793, -0.61644, -0.467404, 0.202896, -0.275314,
        0.536433, 0.11872, 2.120386,
    ),
    standing=(
        -1.214357, -0.601204, 1.823211, 0.3996, 1.016469, 3.02962, 0.20462, -0.122783,
        -2.674657, -2.058507, 0.688033, 0.085619, -0.425106, 0.119473, 0.171037, -1.370467,
        1.68328, -0.100415, -0.149662,
    ),
)
# fmt: on

AUTO = PresetSpec(
    name="auto",
    description="Default: selfie with mirror-image averaging and a zoomed second pass on the "
    "person, with MediaPipe's whole-body segmentation on the square around them, and a "
    "learned edge step that reads the photo's colour near the outline; empty when neither the "
    "pose nor the face detector sees anybody. Fast on a CPU.",
    guide="selfie",
    members=(
        Member("selfie"),
        Member("selfie", view="box", margin=0.05),
        Member("pose-segmentation", view="square", margin=0.25, flip=False),
    ),
    threshold=0.4,
    sharpen=8.0,
    parts=0.5,
    edge=AUTO_EDGE,
)

# ``balanced``'s learned edge step, fitted as ``AUTO_EDGE`` is (``bench/choose_numbers.py --model
# balanced``); one more member, so one more coefficient.
# fmt: off
BALANCED_EDGE = EdgeModel(
    others=(
        1.162012, -0.710099, 7.231682, -1.529704, -0.158979, -0.625421, -0.361227, 0.620166,
        -0.099689, 0.701068, -4.73414, 0.189648, -0.358488, -0.430609, -0.028808, -0.027625,
        -0.991199, 0.37007, 0.121447, 1.61052,
    ),
    standing=(
        -2.390507, -0.711502, 2.694638, -0.345206, 0.483505, 1.506683, 2.227132, 0.293194,
        -0.054471, -2.992721, 0.785288, 0.470048, 0.31015, -0.224834, 0.169192, 0.150108,
        -1.056611, 0.843615, -0.19724, 0.028913,
    ),
)
# fmt: on

BALANCED = PresetSpec(
    name="balanced",
    description="Between auto and quality: auto's members and learned edge step, with MODNet "
    "on the photo at 320 px (its short side) as a fourth member, each weighed by how well it "
    "agrees with the others on the photo. Needs onnxruntime.",
    guide="selfie",
    members=(
        Member("selfie"),
        Member("selfie", weight=0.5, view="box", margin=0.05),
        Member("pose-segmentation", view="square", margin=0.25, flip=False),
        # MODNet, a portrait matting model, at 320 px rather than its own 512: as good a
        # member on both dev sets (k-fold), at about a third of the time
        # Where the person would be under 200 px high in its input (a small figure in a
        # wide scene), MODNet, trained on portraits, only adds its errors: it is not run
        # there, and the others decide (the dev photos placed small in a larger canvas:
        # mIoU 0.840 → 0.894 on the full-body set, 0.748 → 0.758 on the everyday one).
        Member("modnet", weight=1.5, view="photo", flip=False, short_side=320, min_person=200),
    ),
    threshold=0.4,
    sharpen=12.0,
    parts=0.4,
    # MODNet fails on some photos that the selfie models get right (several people in the
    # dark) and mends others: each member weighs as much as it agrees with the rest on the
    # photo at hand (k-fold: MAD 0.0206 → 0.0180 on the everyday photos, 0.0107 → 0.0092 on
    # the full-body ones). ``auto`` and ``quality`` do not gain from it (see the docs)
    agreement=2.0,
    edge=BALANCED_EDGE,
)

# ``quality``'s learned edge step, fitted as ``AUTO_EDGE`` is (``bench/choose_numbers.py
# --model quality``); five members.
# fmt: off
QUALITY_EDGE = EdgeModel(
    others=(
        0.554753, -0.527729, 7.60916, -1.280517, -0.631756, 0.100898, -0.245402, -0.023979,
        0.469343, -0.159183, 0.965574, -4.166187, 0.144778, -0.552378, -0.423538, -0.082248,
        0.060559, 0.036418, -1.114144, -0.340958, 1.548707,
    ),
    standing=(
        -2.907525, -0.593904, 2.70664, -0.366916, -0.054497, 1.694803, 1.157893, 0.883111,
        0.338023, -0.144231, -1.95821, 1.654634, 0.479329, 0.19383, -0.097533, 0.234797,
        0.112456, -1.714607, 0.49766, 0.082748, -0.093931,
    ),
)
# fmt: on

QUALITY = PresetSpec(
    name="quality",
    description="Slower, better: balanced's members with U²-Net (rembg's default model) on the "
    "person's box and its mirror image as a fifth, each weighed by how well it agrees with the "
    "others on the photo, and the learned edge step; empty when nobody is there. Needs "
    "onnxruntime.",
    guide="selfie",
    members=(
        Member("selfie"),
        Member("selfie", weight=0.5, view="box", margin=0.05),
        Member("pose-segmentation", weight=0.5, view="square", margin=0.25, flip=False),
        Member("modnet", weight=1.5, view="photo", flip=False, short_side=320, min_person=200),
        # rembg's default model, on the close-up: a general salient-object model, it only
        # counts near the person the guide found
        Member("u2net", weight=1.5, view="box", margin=0.1),
    ),
    threshold=0.35,
    sharpen=6.0,
    parts=0.4,
    agreement=4.0,
    edge=QUALITY_EDGE,
)

QUALITY_RVM = PresetSpec(
    name="quality-rvm",
    description="Selfie, MODNet and U²-Net on the person's box (one pass each) with Robust "
    "Video Matting as a fourth member. Opt-in: RVM is GPL-3.0. Needs onnxruntime.",
    guide="selfie",
    members=(
        Member("selfie"),
        Member("modnet", flip=False),
        Member("u2net", view="box", margin=0.1, flip=False),
        Member("rvm", flip=False),
    ),
    threshold=0.35,
    sharpen=8.0,
    parts=0.5,
)

PRESETS: dict[str, PresetSpec] = {
    preset.name: preset for preset in (AUTO, BALANCED, QUALITY, QUALITY_RVM)
}


def model_specs(name: str) -> list[ModelSpec]:
    """The catalog models that ``name`` (a model or a pipeline) needs."""
    if name in PRESETS:
        return [get_spec(model) for model in PRESETS[name].needs]
    return [segmentation_spec(name)]


def model_availability(
    name: str, store: ModelStore, engine: str = "auto"
) -> availability.Availability:
    """Whether ``name`` (a catalog model or a pipeline) can run here with ``store``'s files and
    sources and the ``onnx_engine`` setting ``engine``; what it needs if not."""
    return availability.check(
        model_specs(name) if name in PRESETS else [get_spec(name)],
        store.directory,
        engine=engine,
        url_sources=store.url_sources,
        pull=store.allow_pull,
    )


def ensure_models(store: ModelStore, name: str, engine: str = "auto") -> None:
    """Pull (if needed) and verify every model file that ``name`` needs; a model that could
    not run here (its runtime missing, no source it can reach) fails before any download."""
    model_availability(name, store, engine).raise_if_unavailable(name)
    for spec in model_specs(name):
        store.ensure(spec)


def served_models(settings: PipelineSettings, named: list[str]) -> frozenset[str]:
    """The models and pipelines a server runs: the ``named`` ones (``HUMANSEG_MODELS``) plus
    the default, or if none are named the default plus the Apache-2.0 models whose files are in
    the model folder and the pipelines made only of those. Callers never widen it."""
    if named:
        return frozenset({*named, settings.model})
    folder = settings.model_dir
    local = {
        name
        for name, spec in CATALOG.items()
        if spec.license == "Apache-2.0" and not spec.opt_in and (folder / spec.filename).is_file()
    }
    pipelines = {name for name, preset in PRESETS.items() if set(preset.needs) <= local}
    return frozenset({settings.model, *pipelines, *(local & set(segmentation_models()))})


def segmentation_models() -> list[str]:
    return [n for n, spec in CATALOG.items() if spec.postprocess.kind == "map"]


def segmentation_spec(name: str) -> ModelSpec:
    """The catalog entry of a segmentation model, or an ``unknown_model`` error."""
    spec = CATALOG.get(name)
    if spec is not None and spec.postprocess.kind == "map":
        return spec
    if spec is not None:
        raise error(
            ErrorCode.UNKNOWN_MODEL,
            f"{name!r} is a person detector used inside pipelines, not a segmentation model; "
            f"models: {', '.join(segmentation_models())}; pipelines: {', '.join(PRESETS)}.",
        )
    raise error(
        ErrorCode.UNKNOWN_MODEL,
        f"Unknown model {name!r}; models: {', '.join(segmentation_models())}; "
        f"pipelines: {', '.join(PRESETS)}.",
    )
