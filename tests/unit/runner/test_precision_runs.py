"""`--precision` in runs: the path is resolved once, recorded in the manifest with its reason,
handed to the learner and the backend; a default (fp32) run records nothing new; a bf16 that
does not compute in bf16 here is refused before anything is written."""

from __future__ import annotations

import json

import pytest
from cli_inprocess import run_main
from tiny_runs import one_torch_thread, records, run_tiny, tiny_config, write_persona  # noqa: F401

from sdpo import precision_choice
from sdpo.precision import ProbeResult
from simbench.errors import InputError
from simbench.runner.parts import build_learner, generation_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_bf16_run_records_its_path_and_trains_on_it(tmp_path, smol_tokenizer):
    config = tiny_config(write_persona(tmp_path, switch=2), precision="bf16", interactions=4)
    run_dir = run_tiny(config, tmp_path / "run", smol_tokenizer).run_dir
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["matmul_path"] == "bf16" and manifest["config"]["precision"] == "bf16"
    assert "bf16-sized" in manifest["matmul_reason"]
    assert [u["skipped"] for u in records(run_dir, "updates")] == [False, False]


def test_auto_records_what_it_resolved_to_and_fp32_records_nothing(tmp_path, smol_tokenizer):
    persona = write_persona(tmp_path, switch=1)
    auto = run_tiny(tiny_config(persona, precision="auto", interactions=2), tmp_path / "a", smol_tokenizer)
    plain = run_tiny(tiny_config(persona, interactions=2), tmp_path / "p", smol_tokenizer)
    manifest = json.loads((auto.run_dir / "manifest.json").read_text())
    chosen = precision_choice.choose(precision_choice.cached_measurement())
    assert (manifest["matmul_path"], manifest["matmul_reason"]) == (chosen.path, chosen.reason)
    plain_manifest = json.loads((plain.run_dir / "manifest.json").read_text())
    assert "matmul_path" not in plain_manifest and "precision" not in plain_manifest["config"]
    assert "matmul_reason" not in plain_manifest


def test_bf16_is_refused_in_one_line_where_this_machine_does_not_compute_in_bf16(tmp_path, monkeypatch, capsys):
    # This machine's cached measurement is the record `--precision` trusts; a CPU whose bf16
    # copies came out fp32-exact (as under oneDNN's ignored flag) would have written this one.
    monkeypatch.setenv("SIMBENCH_CACHE", str(tmp_path / "cache"))
    exact = ProbeResult("fp32", 3e-7, 4e-7)
    silent = precision_choice.Measurement(key=precision_choice.machine_key(), measured="2026-12-08",
                                          probes={"fp32": exact, "bf16": ProbeResult("bf16", 3e-7, 4e-7)},
                                          seconds={"fp32": {"matmul": 0.01, "step": 0.1}})
    precision_choice.cached_measurement(lambda: silent)
    out = tmp_path / "run"
    code, _, err = run_main(capsys, "run", "--persona", write_persona(tmp_path), "--precision", "bf16", "--out", out)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--precision" in err and "does not compute in bf16" in err and "fp32 or auto" in err
    assert not out.exists()


def test_the_path_reaches_the_learner_and_the_generation_config(tmp_path, smol_tokenizer):
    from tinymodels import make_tiny_llama

    from simbench.runner.build import resolve_inputs

    inputs = resolve_inputs(tiny_config(write_persona(tmp_path), precision="bf16"))
    assert generation_config(inputs).matmul_path == "bf16"
    learner = build_learner(inputs, make_tiny_llama(smol_tokenizer), smol_tokenizer, regenerate=None)
    assert learner.updater.matmul_path == "bf16"


def test_precision_is_not_a_learner_option(tmp_path, smol_tokenizer):
    config = tiny_config(write_persona(tmp_path), learner_options={"matmul_precision": "bf16"})
    with pytest.raises(InputError, match="use --precision"):
        run_tiny(config, tmp_path / "run", smol_tokenizer)
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").rglob("*.jsonl"))


def test_bf16_decoding_starts_at_the_measured_batch_size(monkeypatch, smol_tokenizer):
    from contextlib import nullcontext

    from tinymodels import make_tiny_llama

    from simbench.backends import hf
    from simbench.backends.base import GenerationRequest

    paths: list[str] = []
    monkeypatch.setattr(hf, "bf16_weight_shadows", lambda model, path: paths.append(path) or nullcontext())
    backend = hf.HFBackend(make_tiny_llama(smol_tokenizer), smol_tokenizer,
                           hf.GenerationConfig(max_new_tokens=2, batch_size=8, matmul_path="bf16"))
    chat = ({"role": "user", "content": "Hi"},)
    backend.generate([GenerationRequest(messages=chat, seed=i) for i in range(hf.BF16_DECODE_MIN_BATCH - 1)])
    backend.generate([GenerationRequest(messages=chat, seed=i) for i in range(hf.BF16_DECODE_MIN_BATCH)])
    assert paths == ["fp32", "bf16"]
    with pytest.raises(InputError, match="matmul_path"):
        hf.GenerationConfig(matmul_path="fp16")
