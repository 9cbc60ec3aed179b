"""The core: image bytes → decode → model → matte → refine → compose → encoded image bytes.

Pure and synchronous, with no HTTP in it. The API, the CLI and batch jobs all call
``Pipeline.process``; none re-implements a step. What comes out is described by an
``OutputSpec`` (see ``humanseg.outputs``); a bare ``OutputType`` means that type with the
defaults of the request schema (``humanseg.schema``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from humanseg import compose, imaging, matting
from humanseg.errors import ErrorCode, error
from humanseg.models.catalog import FACE_DETECTION
from humanseg.models.faces import FaceDetector
from humanseg.models.matter import Resolver
from humanseg.models.passes import Passes
from humanseg.models.segmenter import ModelRegistry
from humanseg.models.store import ModelStore
from humanseg.outputs import ImageFormat, OutputSpec, OutputType
from humanseg.schema import FORMATS, parse_output_spec, parse_output_type, type_value
from humanseg.settings import PipelineSettings
from humanseg.settings.fields import cpu_count

__all__ = [
    "Output",
    "OutputSpec",
    "OutputType",
    "Pipeline",
    "parse_output_spec",
    "parse_output_type",
]

_MEDIA_TYPES = {
    **{fmt: info.media_type for fmt, info in FORMATS.items()},
    ImageFormat.ZIP: "application/zip",
}


@dataclass(frozen=True)
class Output:
    data: bytes
    media_type: str
    width: int
    height: int
    # where the person's box lies in the output (left, top, width, height), if there is one
    foreground: tuple[int, int, int, int] | None = None
    model_seconds: float = 0.0  # time in the model alone, for metrics and benchmarks
    # the pipeline's own estimate of the matte's quality, in [0, 1]: send low ones to a person
    confidence: float | None = None


class Pipeline:
    def __init__(
        self,
        settings: PipelineSettings,
        registry: ModelRegistry | None = None,
        *,
        concurrency: int | None = None,
    ) -> None:
        """``concurrency``: calls of ``process`` that may run at once (threads), each with its
        own model session (made when first needed); default: the CPU count."""
        self.settings = settings
        self.concurrency = concurrency or cpu_count()
        self.registry = registry or ModelRegistry(
            ModelStore.from_settings(settings, pull=settings.pull_on_request),
            threads=settings.inference_threads,
            pool_size=self.concurrency,
            engine=settings.onnx_engine,
            precision=settings.openvino_precision,
            passes=Passes.for_cores(settings.inference_threads, enabled=settings.parallel_passes),
        )
        self.resolver = Resolver(
            self.registry, self.face_detector, every_part=settings.keep_every_part
        )
        self._faces: FaceDetector | None = None
        self._faces_lock = threading.Lock()

    def load(self, model: str | None = None) -> None:
        """Load (pulling if needed) and warm up a model or pipeline, so requests are fast."""
        self.resolver.get(model or self.settings.model)

    def face_detector(self) -> FaceDetector:
        """The face detector, loaded (and pulled) on first use: only ID photos need it."""
        with self._faces_lock:
            if self._faces is None:
                self.registry.check_available(FACE_DETECTION.name, [FACE_DETECTION])
                self._faces = FaceDetector(
                    FACE_DETECTION,
                    self.registry.store,
                    threads=self.settings.inference_threads,
                    pool_size=self.concurrency,
                )
            return self._faces

    def process(
        self,
        data: bytes,
        output: OutputType | OutputSpec = OutputType.ALPHA,
        *,
        model: str | None = None,
    ) -> Output:
        if not isinstance(output, OutputSpec):  # a bare type: that type with its defaults
            output = parse_output_spec(type_value(output))
        spec = output
        settings = self.settings
        matter = self.resolver.get(model or settings.model, every_part=spec.keep_every_part)
        refine = settings.refine_edges if spec.refine is None else spec.refine
        # Only a plain matte or mask lets the JPEG decoder skip to the model's size.
        needs_full_pixels = bool(
            refine
            or spec.type not in (OutputType.ALPHA, OutputType.MASK)
            or spec.max_pixels
            or spec.reframes
        )
        decoded = imaging.decode(
            data,
            max_side=settings.max_image_side,
            max_pixels=settings.max_image_pixels,
            draft_size=None if needs_full_pixels else matter.input_size,
            max_jpeg_scans=settings.max_jpeg_scans,
        )
        rgb, own_alpha, size = decoded.rgb, decoded.alpha, decoded.size
        if spec.max_pixels and size[0] * size[1] > spec.max_pixels:
            rgb, own_alpha = _shrink(imaging.as_image(rgb), own_alpha, spec.max_pixels)
            size = rgb.size
        started = time.perf_counter()
        result = matter.matte(rgb, size)
        matte = result.alpha
        model_seconds = time.perf_counter() - started
        pixels = np.asarray(rgb) if needs_full_pixels else None  # a JPEG's array as it is
        uses_small = refine or spec.type not in (OutputType.ALPHA, OutputType.MASK)
        small = matting.working_photo(pixels) if pixels is not None and uses_small else None
        if refine:
            assert pixels is not None
            matte = matting.refine_matte(pixels, matte, small)
        matte = matting.apply_own_alpha(matte, own_alpha)
        image, box = self._compose(spec, rgb, pixels, small, matte)
        encoded = self._encode(spec, image, box)
        return replace(encoded, model_seconds=model_seconds, confidence=result.confidence)

    def _compose(
        self,
        spec: OutputSpec,
        rgb: imaging.Picture,
        pixels: np.ndarray | None,
        small: np.ndarray | None,
        matte: np.ndarray,
    ) -> tuple[imaging.Picture, tuple[int, int, int, int] | None]:
        kind = spec.type
        if kind is OutputType.ALPHA and not spec.reframes:
            return compose.alpha_output(matte), compose.subject_box(matte)
        if kind is OutputType.MASK:
            return compose.mask_output(matte), compose.subject_box(matte)
        if pixels is None:
            pixels = np.asarray(rgb)
        if kind is OutputType.BLUR:
            colors = matting.estimate_foreground(pixels, matte, small)
            cutout = compose.Cutout(colors, matte)
            background = compose.blurred_background(pixels, matte, spec.blur_strength)
            return Image.fromarray(compose.flatten(cutout, background), "RGB"), None
        cutout = compose.Cutout(matting.estimate_foreground(pixels, matte, small), matte)
        if kind is OutputType.ID_PHOTO:
            return self._id_photo(spec, imaging.as_image(rgb), cutout), None
        cutout = self._geometry(spec, cutout)
        box = compose.subject_box(cutout.alpha)
        if kind is OutputType.ALPHA:  # a matte cropped or placed
            return compose.alpha_output(cutout.alpha), box
        if spec.bg_image is not None:
            background = imaging.decode(
                spec.bg_image,
                max_side=self.settings.max_image_side,
                max_pixels=self.settings.max_image_pixels,
                max_jpeg_scans=self.settings.max_jpeg_scans,
            )
            backdrop = compose.cover(imaging.as_image(background.rgb), cutout.size)
            return Image.fromarray(compose.flatten(cutout, backdrop), "RGB"), box
        if spec.bg_color is not None:
            return compose.over_color(cutout, spec.bg_color), box
        return compose.foreground_output(cutout.colors, cutout.alpha), box

    def _geometry(self, spec: OutputSpec, cutout: compose.Cutout) -> compose.Cutout:
        canvas = cutout.size
        if spec.crop_margin is not None:
            subject = compose.subject_box(cutout.alpha)
            if subject is None:
                raise error(
                    ErrorCode.NO_PERSON, "No person was found in the image, so there is no crop."
                )
            box = compose.margin_box(subject, spec.crop_margin)
            width, height = box[2] - box[0], box[3] - box[1]
            if width * height > self.settings.max_image_pixels:
                raise error(
                    ErrorCode.INVALID_MARGIN,
                    f"With its margin the crop would be {width}×{height} px, more pixels than "
                    f"the limit of {self.settings.max_image_pixels}; use a smaller margin.",
                )
            cutout = compose.crop(cutout, box)
            canvas = cutout.size
        if spec.placement is not None:
            placement = spec.placement
            cutout = compose.place(
                cutout, canvas, scale=placement.scale, position=placement.position
            )
        return cutout

    def _id_photo(self, spec: OutputSpec, rgb: Image.Image, cutout: compose.Cutout) -> Image.Image:
        assert spec.id_preset is not None and spec.bg_color is not None
        detector = self.face_detector()
        faces = detector.detect(rgb)
        if not faces:
            # small faces (full-length, or several people): look again in square tiles, first
            # over the person, then over the whole frame
            subject = compose.subject_box(cutout.alpha)
            if subject is not None:
                faces = detector.detect_tiled(rgb, subject)
            if len(faces) < 2:  # exactly one person: nobody else anywhere in the frame either
                whole = detector.detect_tiled(rgb, (0, 0, rgb.width, rgb.height))
                faces = whole if len(whole) > len(faces) else faces
        if not faces:
            raise error(
                ErrorCode.NO_FACE, "No face was found; an ID photo needs one person facing us."
            )
        if len(faces) > 1:
            raise error(
                ErrorCode.MULTIPLE_FACES,
                f"{len(faces)} faces were found; an ID photo needs exactly one person.",
            )
        return compose.id_photo(cutout, faces[0], spec.id_preset, spec.bg_color)

    def _encode(
        self, spec: OutputSpec, image: imaging.Picture, box: tuple[int, int, int, int] | None
    ) -> Output:
        dpi = spec.id_preset.dpi if spec.id_preset else None
        fmt = spec.format
        if fmt is ImageFormat.ZIP:
            data = imaging.encode_zip(image, compress_level=self.settings.png_compress_level)
        else:
            data = imaging.encode(
                image,
                fmt.value,
                compress_level=self.settings.png_compress_level,
                fast=self.settings.png_fast,
                quality=spec.jpeg_quality,
                dpi=dpi,
            )
        foreground = None if box is None else (box[0], box[1], box[2] - box[0], box[3] - box[1])
        width, height = imaging.picture_size(image)
        return Output(
            data=data,
            media_type=_MEDIA_TYPES[fmt],
            width=width,
            height=height,
            foreground=foreground,
        )


def _shrink(
    rgb: Image.Image, alpha: np.ndarray | None, max_pixels: int
) -> tuple[Image.Image, np.ndarray | None]:
    """Scale a photo (and its own alpha) down to at most ``max_pixels`` pixels."""
    width, height = rgb.size
    scale = (max_pixels / (width * height)) ** 0.5
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    small = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if alpha is not None:
        alpha = np.asarray(Image.fromarray(alpha, "L").resize(size, Image.Resampling.BILINEAR))
    return small, alpha
