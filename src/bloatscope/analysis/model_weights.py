"""Cause 8: large model weights baked into the image. Owns big weight files (safetensors,
PyTorch, ONNX, GGUF, Keras and the like) outside installed Python packages; every code change
re-ships them unless they live in their own late layer or outside the image."""

from __future__ import annotations

from collections.abc import Iterator

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.model.finding import Severity

DEFAULT_MIN_BYTES = 50_000_000

_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".gguf", ".ckpt", ".h5")
# Libraries ship .bin and .h5 data of their own (fonts, tables, test fixtures); those are not
# weights a user baked in.
_PACKAGE_DIRS = ("site-packages/", "dist-packages/")

_FIX = (
    "Mount or download the weights at start (a volume, or fetch in the entrypoint), or at least "
    "COPY them in their own late layer so code changes do not re-ship them."
)


class ModelWeightsAnalyzer(Analyzer):
    """Claims visible weight files of at least ``min_bytes``; one group, "weights"."""

    cause = "model-weights"

    def __init__(self, min_bytes: int = DEFAULT_MIN_BYTES) -> None:
        self.min_bytes = min_bytes

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        floor = max(self.min_bytes, 1)
        for path, size, content in data.files:
            # size first: almost every file is far below the threshold, so this is the cheap
            # test that rejects nearly all of them
            if size < floor or not path.endswith(_SUFFIXES):
                continue
            if any(marker in path for marker in _PACKAGE_DIRS):
                continue
            yield Claim("weights", content, "/" + path, size)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        del group
        name = paths[0].rsplit("/", 1)[-1] if paths else "weights"
        return Description(f"model weights baked into the image: {name}", _FIX, Severity.MEDIUM)
