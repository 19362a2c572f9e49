"""Sweep executors without a cluster: the registry and flags, the Ray executor's checks that
run before Ray is asked (missing package, bad flags, device vs GPUs, address format, results
folder on a worker), and the local executor under the sweep (Ctrl-C leaves the rest)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

import pytest
from tiny_runs import one_torch_thread, tiny_parts_factory, write_persona  # noqa: F401

from simbench.cli import main
from simbench.errors import InputError
from simbench.runner.executors import EXECUTORS, make_executor
from simbench.runner.executors.base import CellReport, checkpoint_position
from simbench.runner.executors.local import LocalExecutor
from simbench.runner.executors.ray import check_address, check_results_folder, gpus_for

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_registry_names_every_executor_and_local_is_the_default():
    assert EXECUTORS.names() == ["batched", "local", "ray"]
    assert isinstance(make_executor(), LocalExecutor)
    with pytest.raises(InputError, match=r"--executor: unknown executor 'rey' \(did you mean 'ray'"):
        make_executor("rey")


@pytest.mark.parametrize("option,flag", [("address", "--address"), ("cpus_per_run", "--cpus-per-run"),
                                         ("gpus_per_run", "--gpus-per-run")])
def test_ray_flags_are_refused_with_the_local_executor(option, flag):
    with pytest.raises(InputError, match=f"^{flag}: does not apply to --executor local"):
        make_executor("local", **{option: "127.0.0.1:6379" if option == "address" else 1})


def test_without_ray_the_flag_is_one_line_with_the_install_command(tmp_path, monkeypatch, capsys):
    persona = write_persona(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--personas", str(persona), "--learners", "frozen", "--out", str(tmp_path / "out"),
              "--executor", "ray"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --executor ray: Ray cannot be imported")
    assert "pip install 'simbench-online[ray]'" in err
    assert not (tmp_path / "out").exists()


def test_gpus_per_run_follows_the_device():
    assert gpus_for(None, {"cpu"}) == 0 and gpus_for(None, {"cuda"}) == 1
    assert gpus_for(0.25, {"cuda"}) == 0.25
    with pytest.raises(InputError, match="^--gpus-per-run: is 0 but --device is cuda"):
        gpus_for(0, {"cuda"})
    with pytest.raises(InputError, match="^--gpus-per-run: asks for 0.5 GPUs but --device is cpu"):
        gpus_for(0.5, {"cpu"})
    with pytest.raises(InputError, match="^--device: cuda:1 names one GPU"):
        gpus_for(None, {"cuda:1"})


def test_malformed_and_unreachable_addresses_fail_before_ray_is_asked():
    for address in (None, "auto", "ray://head:10001"):
        check_address(address)  # left to Ray
    with pytest.raises(InputError, match="^--address: 'head-node' is not HOST:PORT"):
        check_address("head-node")
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(InputError, match=f"^--address: no Ray cluster answers at 127.0.0.1:{port}"):
        check_address(f"127.0.0.1:{port}")


def test_a_worker_that_does_not_see_the_results_folder_fails_in_one_line(tmp_path):
    with pytest.raises(InputError) as info:
        check_results_folder(tmp_path, "node-b (10.0.0.2)")
    assert str(info.value) == (f"{tmp_path}: node node-b (10.0.0.2) does not see the sweep's results folder "
                               "(no sweep.json) (put the results folder on a file system every node mounts "
                               "at the same path)")
    (tmp_path / "sweep.json").write_text("{}")
    check_results_folder(tmp_path, "node-b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.json"]  # the write check cleans up


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_worker_that_cannot_write_the_results_folder_fails_in_one_line(tmp_path):
    (tmp_path / "sweep.json").write_text("{}")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(InputError, match="node node-b cannot write the results folder"):
            check_results_folder(tmp_path, "node-b")
    finally:
        tmp_path.chmod(0o755)


def test_an_input_error_from_a_worker_is_raised_again_on_the_driver():
    report = CellReport("cell", "input_error", input_error={"where": "--model", "problem": "not found",
                                                            "hint": None})
    with pytest.raises(InputError, match="^--model: not found$"):
        report.raise_input_error()
    CellReport("cell", "complete").raise_input_error()  # nothing to raise


class Display:
    """Records what the executor tells the display."""

    def __init__(self):
        self.calls = []

    def start_run(self, name, info):
        self.calls.append(("start", name, info))

    def on_event(self, event, context):
        pass

    def advance(self, name, info, failed=False):
        self.calls.append(("advance", name, info, failed))


def test_local_executor_runs_cells_in_order_and_stops_after_an_interrupted_one(tmp_path, smol_tokenizer):
    from simbench.runner.sweep import run_sweep

    persona = write_persona(tmp_path, switch=2)
    settings = dict(interactions=4, batch_size=2, probe_every=2, probe_prompts=2, general_questions=1,
                    max_new_tokens=4)

    class CtrlCOnFirstFollowUp:
        """The real user simulator; asking it for the first follow-up also presses Ctrl-C."""

        pressed = False

        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            if name.startswith("follow_up") and not CtrlCOnFirstFollowUp.pressed:
                CtrlCOnFirstFollowUp.pressed = True
                os.kill(os.getpid(), signal.SIGINT)  # the run finishes this batch, then stops
            return getattr(self.inner, name)

    def factory(inputs):
        parts = tiny_parts_factory(smol_tokenizer)(inputs)
        parts.user = CtrlCOnFirstFollowUp(parts.user)
        return parts

    out = tmp_path / "out"
    result = run_sweep([str(persona)], ["frozen", "in-context-oracle"], [0], out, settings, display=None,
                       parts_factory=factory)
    assert [(o.cell.learner, o.status) for o in result.outcomes] == [("frozen", "interrupted")]
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    assert runs["two-phase--frozen--s0"]["status"] == "interrupted"
    assert runs["two-phase--in-context-oracle--s0"]["status"] == "pending"  # never started
    assert runs["two-phase--frozen--s0"]["node"]["pid"] == os.getpid()
    assert checkpoint_position(out / "two-phase--frozen--s0") == 2

    again = run_sweep([str(persona)], ["frozen", "in-context-oracle"], [0], out, settings, display=None,
                      parts_factory=tiny_parts_factory(smol_tokenizer))
    assert [o.status for o in again.outcomes] == ["complete", "complete"]
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    assert runs["two-phase--frozen--s0"]["resumed_from"] == 2
    assert "resumed_from" not in runs["two-phase--in-context-oracle--s0"]
    assert json.loads((out / "sweep.json").read_text())["executor"] == {"name": "local"}
