"""Plugins (simbench/plugins.py): `--plugin FILE_OR_MODULE` on any command and installed
`simbench.plugins` entry points load once, before names resolve; a plugin that fails is one
line on stderr, exit 2, naming it."""

from __future__ import annotations

import pytest
from cli_inprocess import run_main
from plugin_sandbox import sandbox

import simbench.plugins as plugins
from simbench.learners import LEARNERS

MINE = """\
from pathlib import Path
from simbench.extend import LEARNERS

Path({log!r}).open("a").write("imported\\n")


@LEARNERS.register("mine", learns_from_feedback=True)
class Mine:
    \"\"\"An outside learner that learns from follow-ups.\"\"\"
"""


@pytest.fixture(autouse=True)
def isolated():
    with sandbox():
        yield


def write_plugin(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def entry_point_site(folder, module, text):
    """`module` installed with a dist-info declaring it in the simbench.plugins group."""
    (folder / f"{module}.py").write_text(text)
    info = folder / "outside-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: outside\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[simbench.plugins]\nmine = {module}\n")
    return folder


def assert_one_line_exit_2(code, err, *fragments):
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert all(fragment in err for fragment in fragments), err


def test_plugin_file_registers_a_learner_with_its_twin_for_any_command(capsys, tmp_path):
    path = write_plugin(tmp_path, "mine.py", MINE.format(log=str(tmp_path / "log")))
    code, out, err = run_main(capsys, "list", "learners", "--plugin", path)
    assert code == 0, err
    assert {"mine", "mine+unrelated"} <= {line.split()[0] for line in out.splitlines()}
    assert LEARNERS.feedback_of("mine") == "user" and LEARNERS.get("mine+unrelated").base == "mine"


def test_a_plugin_is_imported_once_however_it_is_named(tmp_path, monkeypatch):
    path = write_plugin(tmp_path, "mine.py", MINE.format(log=str(tmp_path / "log")))
    monkeypatch.chdir(tmp_path)
    assert plugins.load_plugins(["mine.py", str(path), "./mine.py"]) == [str(path)] * 3
    assert plugins.loaded_plugins() == [str(path)]
    assert (tmp_path / "log").read_text() == "imported\n"


@pytest.mark.parametrize(("plugin", "fragments"), [
    ("broken.py", ["--plugin: plugin '", "broken.py' failed to load: RuntimeError: boom"]),
    ("absent.py", ["--plugin: plugin file not found: ", "absent.py"]),
    ("no_such_plugin_module", ["plugin 'no_such_plugin_module' failed to load: ModuleNotFoundError"]),
    ("twice.py", ["failed to load: ValueError: learner 'frozen' is registered twice"]),
])
def test_a_failing_plugin_is_one_line_exit_2_naming_it(capsys, tmp_path, monkeypatch, plugin, fragments):
    write_plugin(tmp_path, "broken.py", "raise RuntimeError('boom')\n")
    write_plugin(tmp_path, "twice.py", "from simbench.extend import LEARNERS\n\n\n"
                 "@LEARNERS.register('frozen')\nclass Frozen:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(capsys, "list", "learners", "--plugin", plugin)
    assert_one_line_exit_2(code, err, *fragments)


def test_an_installed_entry_point_loads_before_any_name_resolves(tmp_path, monkeypatch):
    site = entry_point_site(tmp_path, "outside_mine", MINE.format(log=str(tmp_path / "log")))
    monkeypatch.syspath_prepend(str(site))
    assert "mine+unrelated" in LEARNERS  # the first registry lookup imported it
    assert (tmp_path / "log").read_text() == "imported\n"
    assert plugins.loaded_plugins() == []  # installed plugins are not recorded: every process finds them


def test_a_failing_entry_point_is_one_line_exit_2_naming_it_and_its_package(capsys, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(entry_point_site(tmp_path, "outside_broken", "1 / 0\n")))
    code, _, err = run_main(capsys, "list", "learners")
    assert_one_line_exit_2(code, err, "entry point 'mine' (simbench.plugins, from outside)",
                           "plugin 'outside_broken' failed to load: ZeroDivisionError", "uninstall outside")
