"""The "Adding a user simulator, learner or backend" examples of docs/extending.md, run as
written: each file block becomes that module, each registry line is executed against the real
registries, and a real episode (tiny Llama) runs with all three by name."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from tiny_runs import one_torch_thread, tiny_config, write_persona  # noqa: F401
from tinymodels import make_tiny_llama

import simbench.backends
import simbench.learners
import simbench.users
from simbench.runner.build import resolve_inputs
from simbench.runner.episode import EpisodeSpec, InteractionDone, run_episode
from simbench.runner.parts import build_parts

EXTENDING = Path(__file__).resolve().parents[3] / "docs" / "extending.md"
REGISTRIES = {"users": simbench.users.USERS, "learners": simbench.learners.LEARNERS,
              "backends": simbench.backends.BACKENDS}


def blocks() -> list[str]:
    section = EXTENDING.read_text(encoding="utf-8").split("## Adding a user simulator, learner or backend")[1]
    section = section.split("\n## ")[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture
def registered(monkeypatch):
    """Modules and registry lines of the page, undone after the test."""
    for registry in REGISTRIES.values():
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
    found = {}
    for block in blocks():
        first, _, body = block.partition("\n")
        if match := re.fullmatch(r"# (simbench/(\w+)/(\w+)\.py)", first.strip()):
            name = match.group(1).removesuffix(".py").replace("/", ".")
            module = types.ModuleType(name)
            exec(compile(body, match.group(1), "exec"), module.__dict__)
            monkeypatch.setitem(sys.modules, name, module)
            found[match.group(2)] = module
        else:
            kind = re.fullmatch(r"# in simbench/(\w+)/__init__.py", first.strip()).group(1)
            exec(body, {name.upper(): registry for name, registry in REGISTRIES.items()})
            assert kind in REGISTRIES
    assert set(found) == set(REGISTRIES)
    return found


def test_the_readme_examples_run_an_episode_by_name(registered, tmp_path, smol_tokenizer, one_torch_thread):  # noqa: F811
    config = tiny_config(write_persona(tmp_path, switch=2), user="terse", learner="brief", backend="echo",
                         interactions=4, batch_size=2, probe_every=2)
    inputs = resolve_inputs(config)
    parts = build_parts(inputs, load=lambda name, device: (make_tiny_llama(smol_tokenizer), smol_tokenizer))
    events = list(run_episode(parts, EpisodeSpec(4, 2, 2, seed=0)))
    records = [e.record for e in events if isinstance(e, InteractionDone)]
    assert len(records) == 4
    for record in records:
        assert record.messages[0]["content"].startswith("You are a helpful assistant. Answer in one")
        assert record.response == record.messages[-1]["content"]  # the echo backend
        assert record.follow_up in ("Shorter, please.", "Thanks.")


def test_a_readme_name_registered_twice_is_an_error(registered):
    with pytest.raises(ValueError, match="registered twice"):
        simbench.users.USERS.register_lazy("terse", "somewhere.else:TerseUser")
