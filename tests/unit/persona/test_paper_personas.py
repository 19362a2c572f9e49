"""personas/paper/: the paper's 31 user profiles and its three experiments as persona files.

Every file loads with the project's loader (prompt pools included), names only built-in
preferences, and says in its header which paper profile it mirrors and which of its wishes a
checker decides and which a judge scores; each of the 31 profiles has exactly one file and one
README row. A compressed copy of every file then runs a short episode on a tiny random Llama
(frozen learner, rules user), one interaction batch and one probe per phase.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from tinymodels import make_tiny_llama, single_torch_thread

from simbench.paths import REPO_ROOT, shipped_personas
from simbench.persona.engine import PersonaEngine
from simbench.persona.library import BUILTIN
from simbench.persona.loader import load_persona

PAPER = REPO_ROOT / "personas" / "paper"
EXPERIMENTS = PAPER / "experiments"

# The keys of STYLE_PERSONAS in lasgroup/user_interactions auxiliary/user_simulator.py, as the
# paper's code spells them (one of them with its typo).
PAPER_PROFILES = (
    "concise_casual_beginner", "detailed_professional_expert", "concise_casual_expert",
    "concise_professional_beginner", "concise_professional_expert", "detailed_casual_beginner",
    "detailed_casual_expert", "detailed_professional_beginner", "poetic", "no_punctuation",
    "no_emojis", "less_filler_praise_sycophancy", "answer_direclty_reduce_formatting",
    "no_first_person", "clarification_first", "single_answer", "writing_tics", "writing_tics_v2",
    "formatting", "no_sycophantic", "sycophantic_and_praise", "answer_first", "no_filler_followup",
    "high_initiative", "committing", "no_lists", "more_lists", "more_formatting",
    "less_formatting", "opinionated", "exclamation",
)
SPELLING_FIXES = {"answer_direclty_reduce_formatting": "answer-directly-reduce-formatting"}
# The experiments: file stem -> (scenario as simbench names it, switch points).
EXPERIMENT_FILES = {
    "single-style": ("profile", ()),
    "flip-concise-then-elaborate": ("flip", (30,)),
    "complementary-additions": ("complementary", (20, 40)),
}
AMBIGUOUS = {"clarification-first", "exclamation"}

MARKER = re.compile(r"^# Paper profile: (\S+)$", re.M)
VERIFIABLE = re.compile(r"^# Verifiable \(checker\): (.*)\.$", re.M)
JUDGED = re.compile(r"^# Judge-scored \(rubric; 'not scored' without --judge\): (.*)\.$", re.M)


def stem_of(profile: str) -> str:
    return SPELLING_FIXES.get(profile, profile.replace("_", "-"))


def all_files() -> list[Path]:
    return sorted(PAPER.rglob("*.yaml"))


def header(path: Path) -> str:
    """The leading comment block of a persona file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines[: next(i for i, l in enumerate(lines) if not l.startswith("#"))])


def id_list(text: str) -> list[str]:
    return [] if text.strip() == "none" else [part.strip() for part in text.split(",")]


def used_ids(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(dict.fromkeys(pid for phase in data["schedule"] for pid in phase["preferences"]))


# ------------------------------------------------------------------ the set of files


def test_the_31_profiles_each_have_their_file_and_nothing_else_is_there():
    assert len(PAPER_PROFILES) == len(set(PAPER_PROFILES)) == 31
    expected = {f"{stem_of(p)}.yaml" for p in PAPER_PROFILES}
    assert {p.name for p in PAPER.glob("*.yaml")} == expected
    assert {p.stem for p in EXPERIMENTS.glob("*.yaml")} == set(EXPERIMENT_FILES)
    assert all(p.parent in (PAPER, EXPERIMENTS) for p in all_files())


def test_each_profile_is_named_by_exactly_one_file_and_one_readme_row():
    named = Counter(name for path in all_files() for name in MARKER.findall(header(path)))
    assert named == Counter(PAPER_PROFILES)
    for profile in PAPER_PROFILES:
        path = PAPER / f"{stem_of(profile)}.yaml"
        assert MARKER.findall(header(path)) == [profile], path.name
    readme = (PAPER / "README.md").read_text(encoding="utf-8")
    for profile in PAPER_PROFILES:
        rows = [line for line in readme.splitlines() if line.startswith(f"| `{profile}` |")]
        assert len(rows) == 1, profile
        assert f"`{stem_of(profile)}.yaml`" in rows[0], profile


def test_the_subfolder_is_not_part_of_the_top_level_shipped_set():
    # Top-level globs (shipped_personas, `personas list`, ids resolved by name) stay as they were.
    assert all(path.parent == REPO_ROOT / "personas" for path in shipped_personas())


# ------------------------------------------------------------------ each file


@pytest.mark.parametrize("path", all_files(), ids=lambda p: str(p.relative_to(PAPER)))
def test_every_file_loads_validates_and_uses_built_in_preferences(path):
    persona = load_persona(path, check_prompts=True)
    assert persona.id == f"paper-{path.stem}"
    assert persona.interactions == 60 and not persona.preferences and persona.noise.irrelevant_rate == 0.0
    ids = used_ids(path)
    assert ids and all(pid in BUILTIN for pid in ids), [pid for pid in ids if pid not in BUILTIN]
    if path.parent == PAPER:
        assert [phase.at for phase in persona.schedule] == [0]
        ambiguous = ("builtin:ambiguous-train", "builtin:ambiguous-probe")
        if path.stem in AMBIGUOUS:
            assert (persona.prompts.train, persona.prompts.probe) == ambiguous
        else:
            assert (persona.prompts.train, persona.prompts.probe) == ("builtin:train", "builtin:probe")


@pytest.mark.parametrize("path", all_files(), ids=lambda p: str(p.relative_to(PAPER)))
def test_the_header_splits_the_wishes_into_verifiable_and_judge_scored(path):
    text = header(path)
    ids = used_ids(path)
    verifiable = VERIFIABLE.search(text)
    assert verifiable, "header lacks '# Verifiable (checker): ...'"
    judged = re.search(r"Judge-scored[^:]*: ([^.]*)\.", text)
    assert judged, "header lacks 'Judge-scored ...: ...'"
    assert set(id_list(verifiable.group(1))) == {pid for pid in ids if BUILTIN[pid].verifiable}
    assert set(id_list(judged.group(1))) == {pid for pid in ids if not BUILTIN[pid].verifiable}
    if path.parent == PAPER:
        assert JUDGED.search(text) and "# Not captured: " in text
    if "detailed" in ids:
        assert "--max-new-tokens" in text


def test_ids_are_unique_across_every_persona_file_so_sweeps_can_mix_them():
    files = sorted((REPO_ROOT / "personas").rglob("*.yaml"))
    ids = Counter(yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in files)
    assert [pid for pid, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("stem", sorted(EXPERIMENT_FILES))
def test_each_experiment_has_its_scenario_and_states_its_switch_points(stem):
    path = EXPERIMENTS / f"{stem}.yaml"
    engine = PersonaEngine(load_persona(path, check_prompts=False))
    scenario, switches = EXPERIMENT_FILES[stem]
    assert engine.scenario() == scenario
    assert engine.switch_points() == switches
    text = header(path)
    assert text.startswith("# Paper experiment: ")
    for at in switches:
        assert re.search(rf"\b{at}\b", text), f"the header does not state the switch at {at}"


def test_the_experiments_use_the_wishes_the_brief_names():
    def phases(stem):
        persona = load_persona(EXPERIMENTS / f"{stem}.yaml", check_prompts=False)
        return [sorted(phase.preferences) for phase in persona.schedule]

    single = load_persona(PAPER / "concise-casual-beginner.yaml", check_prompts=False)
    assert phases("single-style") == [sorted(single.schedule[0].preferences)]
    assert phases("flip-concise-then-elaborate") == [["concise"], ["elaborate"]]
    assert phases("complementary-additions") == [
        ["no-emojis"], ["no-emojis", "no-filler-praise"], ["no-closing-offer", "no-emojis", "no-filler-praise"]]


# ------------------------------------------------------------------ a short run of each file


@pytest.fixture(scope="module")
def tiny_llama(smol_tokenizer):
    """One tiny random Llama for every run (the frozen learner never updates it), on one torch
    thread: tiny-model ops are too small to share out on a loaded 2-core machine."""
    with single_torch_thread():
        yield make_tiny_llama(smol_tokenizer)


def compressed_copy(path: Path, folder: Path) -> tuple[Path, int]:
    """The persona with its schedule squeezed to 2 interactions per phase (same phases, prompts)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for k, phase in enumerate(data["schedule"]):
        phase["at"] = 2 * k
    data["interactions"] = 2 * len(data["schedule"])
    copy = folder / path.name
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy, data["interactions"]


@pytest.mark.parametrize("path", all_files(), ids=lambda p: str(p.relative_to(PAPER)))
def test_every_file_runs_a_short_episode_on_a_tiny_model(path, tmp_path, smol_tokenizer, tiny_llama):
    from simbench.config import build_config
    from simbench.runner.build import resolve_inputs
    from simbench.runner.episode import EpisodeSpec, InteractionDone, ProbeDone, run_episode
    from simbench.runner.parts import build_parts

    copy, interactions = compressed_copy(path, tmp_path)
    config = build_config(dict(persona=str(copy), learner="frozen", interactions=interactions, batch_size=2,
                               probe_every=2, probe_prompts=1, general_questions=0, max_new_tokens=4, seed=0))
    inputs = resolve_inputs(config)
    parts = build_parts(inputs, load=lambda name, device: (tiny_llama, smol_tokenizer))
    parts.drift = None  # drift is about the model, not the persona
    events = list(run_episode(parts, EpisodeSpec(interactions, 2, 2, seed=0)))

    done = [e.record for e in events if isinstance(e, InteractionDone)]
    assert len(done) == interactions and all(record.follow_up.strip() for record in done)
    probes = [record for e in events if isinstance(e, ProbeDone) for record in e.records]
    assert probes
    ever = set(used_ids(path))
    for record in probes:
        assert set(record.checks) == ever
        for pid, outcome in record.checks.items():
            if BUILTIN[pid].verifiable:
                assert outcome.passed in (True, False), pid
            else:
                assert outcome.passed is None and outcome.scorer == "none", pid  # no --judge: not scored
