"""A pipeline's matte for the frames of one clip, with the work a clip makes redundant left out.

A photo's pipeline (``PresetMatter``) spends much of its time on two things a clip does not
need on every frame: the mirror-image passes, which average out a model's wobble (the temporal
step does that across frames, see ``humanseg.video.temporal``), and the person gate's
detectors, whose verdict does not change from one frame to the next. So a clip's frames are
matted without the mirror passes, and a confident gate ("a person is there") is kept for
``gate_every`` model runs before the detectors look again; an uncertain or empty verdict is
looked at again on the next frame, so a person who walks in is not missed. The members, their
weights and the fusion are the pipeline's own.
"""

from __future__ import annotations

from humanseg.imaging import Picture
from humanseg.models.matter import Matte, Matter, PresetMatter

# Model runs a confident gate is kept for: about half a second of a 30 fps clip with the model
# on every other frame.
GATE_EVERY = 8


class ClipMatter:
    """Wraps one clip's ``Matter``; make one per clip (it keeps the gate's last verdict)."""

    def __init__(self, matter: Matter, *, gate_every: int = GATE_EVERY, mirror: bool = True):
        self.matter = matter
        self.name = matter.name
        self.gate_every = gate_every
        self.mirror = mirror
        self._presence: float | None = None
        self._runs_since_gate = 0

    @property
    def input_size(self) -> tuple[int, int]:
        return self.matter.input_size

    def matte(self, rgb: Picture, size: tuple[int, int]) -> Matte:
        matter = self.matter
        if not isinstance(matter, PresetMatter):
            return matter.matte(rgb, size)  # one model: nothing to leave out
        known = None
        if self._presence == 1.0 and self._runs_since_gate < self.gate_every:
            known = self._presence
        evidence = matter.evidence(rgb, mirror=self.mirror, presence=known)
        if known is None or evidence.presence != known:
            self._runs_since_gate = 0
        self._runs_since_gate += 1
        self._presence = evidence.presence
        return matter.matte_from(evidence, size, matter.spec.params)
