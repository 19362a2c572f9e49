"""PersonaEngine: which preferences are active when, switching exactly at each phase start."""

from __future__ import annotations

import pytest

from simbench.paths import resolve_persona
from simbench.persona.engine import PersonaEngine
from simbench.persona.loader import load_persona
from simbench.persona.spec import Persona


def persona(schedule: list[tuple[int, list[str]]], interactions: int = 60, **extra) -> Persona:
    return Persona.model_validate(
        {
            "id": "p",
            "name": "P",
            "background": "b",
            "interactions": interactions,
            "schedule": [{"at": at, "preferences": prefs} for at, prefs in schedule],
            **extra,
        }
    )


def test_active_switches_exactly_at_each_phase_start():
    engine = PersonaEngine(persona([(0, ["concise"]), (30, ["detailed"]), (45, ["detailed", "casual"])]))
    assert engine.active(0) == engine.active(29) == ("concise",)
    assert engine.active(30) == engine.active(44) == ("detailed",)
    assert engine.active(45) == engine.active(59) == ("detailed", "casual")
    assert [engine.phase_index(t) for t in (0, 29, 30, 44, 45, 59)] == [0, 0, 1, 1, 2, 2]


def test_last_phase_covers_probes_after_the_final_interaction():
    engine = PersonaEngine(persona([(0, ["concise"]), (30, ["detailed"])]))
    assert engine.active(60) == engine.active(1000) == ("detailed",)


def test_negative_interaction_index_is_an_error():
    engine = PersonaEngine(persona([(0, ["concise"])]))
    with pytest.raises(ValueError, match="got -1"):
        engine.active(-1)


def test_phase_bounds_tile_the_episode_and_switch_points_are_later_starts():
    engine = PersonaEngine(persona([(0, ["concise"]), (20, ["detailed"]), (40, ["concise"])]))
    assert engine.phase_bounds() == [(0, 20), (20, 40), (40, 60)]
    assert engine.switch_points() == (20, 40)
    assert PersonaEngine(persona([(0, ["concise"])], interactions=7)).phase_bounds() == [(0, 7)]
    assert PersonaEngine(persona([(0, ["concise"])])).switch_points() == ()


def test_ever_lists_preferences_in_order_of_first_appearance_without_repeats():
    engine = PersonaEngine(
        persona([(0, ["no-emojis"]), (15, ["no-filler-praise", "no-emojis"]), (30, ["concise"]), (45, ["no-emojis", "casual"])])
    )
    assert engine.ever() == ("no-emojis", "no-filler-praise", "concise", "casual")


def test_active_preferences_resolve_local_definitions():
    local = {
        "id": "short-words",
        "description": "Under five words.",
        "complaints": ["Fewer words."],
        "check": {"max_words": 4},
    }
    engine = PersonaEngine(persona([(0, ["short-words", "no-emojis"])], preferences=[local]))
    short, no_emojis = engine.active_preferences(0)
    assert short.id == "short-words" and short.check("Fine.").passed and not short.check("one two three four five").passed
    assert no_emojis.id == "no-emojis"


@pytest.mark.parametrize(
    ("schedule", "transitions", "scenario"),
    [
        ([(0, ["concise"])], (), "single"),
        ([(0, ["concise"]), (30, ["detailed"])], ("flip",), "flip"),
        ([(0, ["no-emojis"]), (20, ["no-emojis", "no-lists"]), (40, ["no-emojis", "no-lists", "concise"])], ("add", "add"), "complementary"),
        ([(0, ["concise", "casual"]), (30, ["concise"])], ("drop",), "drop"),
        ([(0, ["concise"]), (20, ["detailed"]), (40, ["concise"])], ("flip", "revert"), "flip"),
        ([(0, ["concise"]), (30, ["no-emojis"])], ("shift",), "drop"),
        ([(0, ["concise"]), (10, ["concise", "casual"]), (20, ["concise"]), (30, ["concise", "casual"])],
         ("add", "revert", "revert"), "revert"),
        ([(0, ["concise", "casual"]), (30, ["detailed", "casual", "no-lists"])], ("flip",), "flip"),
    ],
)
def test_transitions_classify_each_switch(schedule, transitions, scenario):
    engine = PersonaEngine(persona(schedule))
    assert engine.transitions() == transitions
    assert engine.scenario() == scenario


def test_shipped_flip_persona_switches_at_its_declared_phase():
    loaded = load_persona(resolve_persona("concise-then-detailed"), check_prompts=False)
    engine = PersonaEngine(loaded)
    switch = loaded.schedule[1].at
    assert engine.active(switch - 1) == ("concise",) and engine.active(switch) == ("detailed",)
    assert engine.scenario() == "flip"


def test_shipped_short_flip_is_a_flip_through_a_one_way_opposite():
    loaded = load_persona(resolve_persona("concise-then-elaborate"), check_prompts=False)
    engine = PersonaEngine(loaded)
    assert engine.scenario() == "flip" and engine.transitions() == ("flip",)
    # concise's own opposite is still detailed; the relation is read in both directions
    assert loaded.preference("concise").opposite == "detailed"
    assert loaded.preference("elaborate").opposite == "concise"
