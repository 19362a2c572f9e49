"""AdapterFolder: the learner's current adapter on disk, written once per weight version."""

from __future__ import annotations

from simbench.learners.handoff import AdapterFolder


def test_one_write_per_version_and_the_previous_folder_removed(tmp_path):
    writes = []

    def save(model, folder):
        folder.mkdir(parents=True)
        (folder / "adapter_model.safetensors").write_text(f"{model['w']}")
        writes.append(folder.name)

    model = {"w": 1}
    adapter = AdapterFolder(model, tmp_path, save=save)
    first = adapter.current(0)
    assert adapter.current(0) == first and writes == ["v000000"]
    model["w"] = 2
    second = adapter.current(1)
    assert writes == ["v000000", "v000001"] and not first.exists()
    assert (second / "adapter_model.safetensors").read_text() == "2"
