"""``analyze --dockerfile``: each layer shown with the Dockerfile line that made it; without a
Dockerfile, with the instruction read back from the image's history."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

SHARED = Path(os.environ.get("SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
WASTE_ZOO = SHARED / "corpus" / "images" / "waste-zoo" / "Dockerfile"


def test_layers_get_their_dockerfile_lines(
    corpus_dir: Path, run: Callable[..., tuple[int, str, str]]
) -> None:
    image = str(corpus_dir / "waste-zoo.docker.tar")
    code, out, err = run(
        "analyze", image, "--dockerfile", str(WASTE_ZOO), "--format", "json", "--no-packages"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["schema_version"] == "1.2"
    lines = WASTE_ZOO.read_text().splitlines()
    by_layer = {item["layer"]: item for item in document["dockerfile"]["layers"]}
    # every RUN of waste-zoo made one layer, after python-slim's two, in file order
    runs = [number for number, text in enumerate(lines, 1) if text.startswith("RUN ")]
    assert [by_layer[layer]["line"] for layer in sorted(by_layer)] == runs
    assert sorted(by_layer) == list(range(2, 2 + len(runs)))
    for item in by_layer.values():
        assert item["instruction"] == lines[item["line"] - 1].strip()
    # the layers the apt-get RUN and the chmod RUN made hold what those lines wrote
    layers = document["layers"]
    chmod_layer = next(i for i, item in by_layer.items() if "chmod 600" in item["instruction"])
    assert layers[chmod_layer]["size_bytes"] == 2_000_000  # /opt/blob-b copied again


def test_without_a_dockerfile_the_history_is_read_back_as_instructions(
    corpus_dir: Path, run: Callable[..., tuple[int, str, str]]
) -> None:
    image = str(corpus_dir / "waste-zoo.docker.tar")
    code, out, _err = run("analyze", image, "--format", "json", "--no-packages")
    assert code == 0
    layers = json.loads(out)["layers"]
    assert json.loads(out)["dockerfile"] is None
    # buildah writes "/bin/sh -c chmod 600 /opt/blob-b"; the instruction is the RUN line
    last = layers[-1]
    assert last["created_by"].startswith("/bin/sh -c ")
    assert last["instruction"] == "RUN chmod 600 /opt/blob-b"
    code, text, _err = run("analyze", image, "--no-packages", "--top", "1")
    assert "RUN head -c" in text and "/bin/sh -c" not in text  # the table shows instructions
