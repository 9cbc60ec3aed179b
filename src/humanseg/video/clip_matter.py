"""A pipeline's matte for the frames of one clip, with what a clip makes redundant left out.

A photo's pipeline (``PresetMatter``) runs its person gate (pose and face detectors) on every
photo. In a clip that is both slow and harmful: the detectors' verdict on one frame is the
same person as on the last, and a verdict that wavers from frame to frame (a face turning
away, a hand in front) would empty the matte of a person for a frame and bring it back on the
next, the worst flicker there is. So the gate's verdict is kept for the clip: once the gate is
sure a person is there, the frames that follow are matted without the detectors for as long
as the guide model still sees someone; when it sees nobody, or before the gate is sure, the
gate looks at every frame, so a person who walks in is found. The members, their weights and
the fusion are the pipeline's own, except that a clip keeps every part of the matte (a
passer-by whose size against the subject's crosses the pipeline's ``parts`` share from one
frame to the next would vanish and come back) and the soft edge the map has upsampled,
which a photo's matte has steepened. Whether the models see the frames with their
levels stretched (a dim or flat photo) is decided on the first frame, for the same reason,
and whether they see them turned (someone lying down) once the gate is first sure.
"""

from __future__ import annotations

from humanseg.imaging import Picture
from humanseg.models.fusion import FusionParams
from humanseg.models.matter import Matte, Matter, PresetMatter
from humanseg.models.passes import in_turn


class ClipMatter:
    """Wraps one clip's ``Matter``; make one per clip (it keeps the gate's verdict)."""

    def __init__(self, matter: Matter, *, mirror: bool = True) -> None:
        self.matter = matter
        self.name = matter.name
        self.mirror = mirror
        self._sure = False  # the gate saw a person, and the guide has seen one since
        self._dim: bool | None = None  # decided on the first frame
        self._turns: int | None = None  # decided when the gate is first sure
        self._params: FusionParams | None = None
        if isinstance(matter, PresetMatter):
            self._params = matter.params.every_part()

    @property
    def input_size(self) -> tuple[int, int]:
        return self.matter.input_size

    def matte(self, rgb: Picture, size: tuple[int, int]) -> Matte:
        matter = self.matter
        if not isinstance(matter, PresetMatter):
            return matter.matte(rgb, size)  # one model: there is no gate
        # a known presence is used only while the guide sees a person; with nobody in its
        # map the gate looks again (and says 0)
        if self._dim is None:
            self._dim = matter.is_dim(rgb)
        # a clip's other stages (decoding, motion, composing, encoding) run on threads of
        # their own: passes side by side would only contend with them (bench/video_speed.py)
        with in_turn():
            evidence = matter.evidence(
                rgb,
                mirror=self.mirror,
                presence=1.0 if self._sure else None,
                dim=self._dim,
                turns=self._turns,
            )
        self._sure = evidence.presence == 1.0
        if self._sure and self._turns is None:
            self._turns = evidence.turns
        assert self._params is not None
        # the map's edge as upsampled, not steepened: a steeper edge changes more from frame to
        # frame (flicker ×0.49 of frame-by-frame instead of ×0.43, bench/video_quality.py)
        return matter.matte_from(evidence, size, self._params, steepen=1.0)
