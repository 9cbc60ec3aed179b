"""The person gate on its own: where the guide sees the person, whether the gate lets them
through, and which way up they are, with the real models."""

from __future__ import annotations

import numpy as np
import pytest

from humanseg.models.gate import PersonGate
from humanseg.models.matter import PresetMatter
from humanseg.models.presets import AUTO
from humanseg.pipeline import Pipeline
from humanseg.settings import PipelineSettings
from tests.support import images


@pytest.fixture(scope="module")
def gate() -> PersonGate:
    auto = Pipeline(PipelineSettings()).resolver.get("auto")
    assert isinstance(auto, PresetMatter)
    return auto.gate


def test_the_gate_finds_a_person_and_lets_them_through(gate: PersonGate) -> None:
    rgb = np.asarray(images.astronaut().resize((256, 256)))
    found = gate.find(rgb, (256, 256), 1.0, flip=True)
    assert found.presence == 1.0 and found.turns == 0
    assert found.bounds is not None
    left, top, right, bottom = found.bounds
    assert right - left > 100 and bottom - top > 150  # her head and shoulders, not a speck
    assert found.lead.shape == (256, 256) and found.lead.max() >= AUTO.threshold
    assert found.pixels is rgb  # a well-exposed photo is seen as it is


def test_the_gate_says_which_way_up_a_person_is(gate: PersonGate) -> None:
    rgb = np.asarray(images.astronaut().resize((256, 256)))
    upside_down = np.ascontiguousarray(np.rot90(rgb, 2))
    assert gate.find(upside_down, (256, 256), 1.0, flip=True).turns == 2
    # a photo already turned as decided is not turned again
    assert gate.find(upside_down, (256, 256), 1.0, flip=True, may_turn=False).turns == 0


def test_the_gate_finds_nobody_in_a_cup_of_coffee(gate: PersonGate) -> None:
    rgb = np.asarray(images.coffee().convert("RGB").resize((300, 200)))
    found = gate.find(rgb, (300, 200), 1.0, flip=True)
    assert found.presence == 0.0 and found.turns == 0
    assert 0.0 <= found.guide_saw < 0.5
