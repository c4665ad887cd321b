"""Cause: machine-learning stacks heavier than the image needs, found from its Python packages:
a CUDA build of torch where a CPU build would do, several deep-learning frameworks side by
side, OpenCV's GUI build in a server image, and CUDA libraries shipped twice (by the system
and again by pip's ``nvidia-*`` wheels).

Each group claims only bytes its fix removes: whole packages through the dependency graph
(their exclusive closure), or the files inside a package that the lighter build leaves out.

Groups are claimed in this order, so a byte two of them explain counts once, for the larger
fix: removing a whole framework beats rebuilding it, and an image built on a CUDA base is
meant for a GPU, so there the duplicate libraries are its finding, not a CPU build of torch."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.finding import Severity
from bloatscope.model.tree import ContentId
from bloatscope.packages.inventory import Inventory

NAMES_LISTED = 6

FRAMEWORKS = "frameworks"
CUDA_TWICE = "cuda-twice"
CUDA_TORCH = "cuda-torch"
OPENCV_GUI = "opencv-gui"

# Frameworks by the PEP 503 names of the distributions that make them up.
_FRAMEWORK_PACKAGES: dict[str, frozenset[str]] = {
    "torch": frozenset({"torch"}),
    "tensorflow": frozenset(
        {"tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-gpu", "tf-nightly"}
    ),
    "jax": frozenset({"jax", "jaxlib"}),
}

# pip's CUDA runtime wheels (nvidia-cublas-cu12, nvidia-cudnn-cu12, ...) and triton, whose
# kernels only GPU torch uses.
_NVIDIA_WHEEL = re.compile(r"^nvidia-")
_GPU_ONLY = frozenset({"triton"})
# A CUDA wheel's version: 2.3.0+cu121. (+rocm builds are AMD's stack, not flagged here.)
_CUDA_LOCAL_VERSION = re.compile(r"\+cu\d")
# Libraries inside torch/lib that only the CUDA build has (lower case: libnvToolsExt).
_CUDA_ONLY_MARKERS = (
    "cuda",
    "cudnn",
    "nccl",
    "cublas",
    "cufft",
    "curand",
    "cusparse",
    "cusolver",
    "nvrtc",
    "nvtoolsext",
    "cupti",
    "nvjitlink",
)

# System CUDA: dpkg packages of NVIDIA's repository (cuda-cudart-12-1, libcublas-12-1,
# libcudnn8, libnccl2) and Debian's own (libcublas12, libcufft11, libnvjitlink12...).
_SYSTEM_CUDA_PACKAGE = re.compile(
    r"^(?:cuda-|libcublas|libcudnn|libnccl|libcufft|libcurand|libcusparse|libcusolver|"
    r"libnvjitlink|libnvrtc|libnpp|libcudart|libnvidia-)"
)
_SYSTEM_CUDA_TREE = re.compile(r"^usr/local/cuda[^/]*/")
# A shared library's name without its version: libcublas.so.12.1.3.1 -> libcublas.
_SHARED_LIBRARY = re.compile(r"^(lib[^/]+?)\.so(?:\.[0-9][0-9.]*)?$")

# OpenCV's GUI builds, the headless build that replaces each, and the directory auditwheel
# put the bundled libraries in.
_OPENCV_GUI_BUILDS = {
    "opencv-python": ("opencv-python-headless", "opencv_python.libs"),
    "opencv-contrib-python": ("opencv-contrib-python-headless", "opencv_contrib_python.libs"),
}
# Bundled libraries only the GUI (Qt highgui) build needs: Qt, X11 and xcb, keyboard maps,
# OpenGL, and the font stack Qt draws text with. Image codecs (libpng, libjpeg), libz,
# FFmpeg (libav*, libsw*), OpenBLAS and OpenSSL serve imread/VideoCapture in every build and
# stay. Recent headless wheels (4.13) bundle a few tiny xcb libraries as well; counting those
# here overstates the saving by some kilobytes.
_OPENCV_GUI_LIBRARY = re.compile(
    r"^lib(?:Qt|X|xcb|xkbcommon|GL|EGL|OpenGL|ICE|SM|freetype|fontconfig)"
)


@dataclass(frozen=True, slots=True)
class _Found:
    """One group's culprits (names for the title) and the contents its fix removes."""

    names: tuple[str, ...]
    contents: frozenset[ContentId]
    kept: str = ""  # frameworks: the one that stays


class AiStacksAnalyzer(Analyzer):
    cause = "ai-stack"
    needs_inventory = True

    def __init__(self) -> None:
        self._found: dict[str, _Found] = {}

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        inventory = data.inventory
        if inventory is None:
            return
        system_cuda = _system_cuda_libraries(data, inventory)
        found_by_group = {
            FRAMEWORKS: _frameworks(inventory),
            CUDA_TWICE: _cuda_twice(data, inventory, system_cuda),
            CUDA_TORCH: None if system_cuda else _cuda_torch(data, inventory),
            OPENCV_GUI: _opencv_gui(data, inventory),
        }
        for group, found in found_by_group.items():  # in precedence order (see the docstring)
            if found is not None and found.contents:
                self._found[group] = found
                yield from _claims(group, found.contents, data, inventory)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        found = self._found.get(group) or _Found((), frozenset())
        names = _shown(found.names)
        if group == FRAMEWORKS:
            return Description(
                title=f"Several ML frameworks installed: {names} (counting all but "
                f"{found.kept}, the largest)",
                fix="Keep one framework: install only the one the model runs on (or split the "
                "services into one image per framework).",
                severity=Severity.MEDIUM,
            )
        if group == CUDA_TWICE:
            return Description(
                title=f"CUDA libraries shipped twice, by the system and by pip: {names}",
                fix="Use the system CUDA: install the framework without its nvidia-* wheels "
                "(`pip install --no-deps`, or the CPU wheel plus the system libraries on "
                "LD_LIBRARY_PATH), or start from a base without CUDA.",
                severity=Severity.HIGH,
            )
        if group == CUDA_TORCH:
            return Description(
                title=f"CUDA build of torch where a CPU build would do: {names}",
                fix="If this image runs without a GPU, install the CPU build: "
                "`pip install torch --index-url https://download.pytorch.org/whl/cpu`.",
                severity=Severity.HIGH,
            )
        headless = " and ".join(_OPENCV_GUI_BUILDS[name][0] for name in found.names)
        return Description(
            title=f"OpenCV GUI build (Qt, X11) in the image: {names}",
            fix=f"Unless the app opens windows (cv2.imshow), install {headless} instead: the "
            "same library without the GUI.",
            severity=Severity.MEDIUM,
        )


def _shown(names: tuple[str, ...]) -> str:
    listed = ", ".join(names[:NAMES_LISTED])
    return listed + (", ..." if len(names) > NAMES_LISTED else "")


def _claims(
    group: str, contents: frozenset[ContentId], data: AnalysisInput, inventory: Inventory
) -> Iterator[Claim]:
    paths = data.path_of(set(contents))
    for content in sorted(contents):
        path = paths.get(content)
        if path is not None:
            yield Claim(group, content, "/" + path, inventory.attribution.content_size[content])


def _python_records(inventory: Inventory, names: Collection[str]) -> list[int]:
    return [
        index
        for index, record in enumerate(inventory.records)
        if record.ecosystem is Ecosystem.PYTHON and record.name in names
    ]


def _owned_files(
    data: AnalysisInput, inventory: Inventory, index: int
) -> Iterator[tuple[str, ContentId]]:
    """The final paths of a package's files with the content it owns at each."""
    owned = set(inventory.attribution.contents[index])
    for content, path in data.path_of(owned).items():
        yield path, content


# frameworks


def _frameworks(inventory: Inventory) -> _Found | None:
    """Per Python environment (site-packages directory), every framework but the largest, when
    nothing else there needs them."""
    indexes = _python_records(inventory, set().union(*_FRAMEWORK_PACKAGES.values()))
    environments: dict[str, dict[str, list[int]]] = {}
    for index in indexes:
        record = inventory.records[index]
        framework = next(f for f, names in _FRAMEWORK_PACKAGES.items() if record.name in names)
        environment = posixpath.dirname(record.location)
        environments.setdefault(environment, {}).setdefault(framework, []).append(index)
    names: list[str] = []
    kept: list[str] = []
    dropped: list[int] = []
    for frameworks in environments.values():
        if len(frameworks) < 2:
            continue
        sizes = {
            framework: sum(inventory.packages[i].size_bytes for i in members)
            for framework, members in frameworks.items()
        }
        ranked = sorted(frameworks, key=lambda framework: (-sizes[framework], framework))
        kept.append(ranked[0])
        names += [_label(inventory, frameworks[framework]) for framework in ranked]
        dropped += [i for framework in ranked[1:] for i in frameworks[framework]]
    if not dropped:
        return None
    removable = inventory.graph.removable(dropped)
    contents = inventory.attribution.freed_contents(inventory.graph.removal(sorted(removable)))
    return _Found(tuple(dict.fromkeys(names)), frozenset(contents), ", ".join(dict.fromkeys(kept)))


def _label(inventory: Inventory, indexes: list[int]) -> str:
    """``torch 2.3.0``; ``jax 0.4.30 + jaxlib 0.4.30`` for a framework of two packages."""
    return " + ".join(
        f"{inventory.records[i].label} {inventory.records[i].version}" for i in indexes
    )


# cuda-torch


def _cuda_torch(data: AnalysisInput, inventory: Inventory) -> _Found | None:
    """GPU torch builds, the CUDA wheels only they need, and their own CUDA-only libraries."""
    graph = inventory.graph
    gpu_torch = [
        i for i in _python_records(inventory, ("torch",)) if _is_cuda_torch(data, inventory, i)
    ]
    if not gpu_torch:
        return None
    reached = graph.reach(gpu_torch)
    wheels = [i for i in reached if _is_cuda_wheel(inventory, i)]
    removable = graph.removable(wheels, replaced=set(gpu_torch))
    contents = set(inventory.attribution.freed_contents(graph.removal(sorted(removable))))
    for index in gpu_torch:
        contents |= {
            content
            for path, content in _owned_files(data, inventory, index)
            if _is_cuda_only_torch_library(path)
        }
    names = [_label(inventory, [i]) for i in gpu_torch]
    names += sorted(inventory.records[i].label for i in removable)
    return _Found(tuple(names), frozenset(contents))


def _is_cuda_torch(data: AnalysisInput, inventory: Inventory, index: int) -> bool:
    """A CUDA build by its version (+cu121), its own CUDA libraries, or the CUDA wheels it
    requires (PyPI's Linux torch carries no local version)."""
    record = inventory.records[index]
    if _CUDA_LOCAL_VERSION.search(record.version):
        return True
    if "+cpu" in record.version:  # the CPU index's local version: no need to look further
        return False
    if any(_is_cuda_wheel(inventory, target) for target in inventory.graph.edges[index]):
        return True
    # torch's libraries sit in torch/lib: look there, not at its 15,000 files
    libraries = [path for path in record.files if "torch/lib/" in path]
    return any(_is_cuda_only_torch_library(path) for path in libraries)


def _is_cuda_wheel(inventory: Inventory, index: int) -> bool:
    record = inventory.records[index]
    return record.ecosystem is Ecosystem.PYTHON and (
        bool(_NVIDIA_WHEEL.match(record.name)) or record.name in _GPU_ONLY
    )


def _is_cuda_only_torch_library(path: str) -> bool:
    directory, _, name = path.rpartition("/")
    if not (directory == "torch/lib" or directory.endswith("/torch/lib")):
        return False
    lowered = name.lower()
    return any(marker in lowered for marker in _CUDA_ONLY_MARKERS)


# cuda-twice


def _system_cuda_libraries(data: AnalysisInput, inventory: Inventory) -> frozenset[str]:
    """Base names of the CUDA shared libraries the system ships (dpkg packages, /usr/local/cuda)."""
    contents: set[ContentId] = set()
    for index, record in enumerate(inventory.records):
        if record.ecosystem is Ecosystem.DPKG and _SYSTEM_CUDA_PACKAGE.match(record.name):
            contents.update(inventory.attribution.contents[index])
    paths = list(data.path_of(contents).values()) if contents else []
    local = data.filesystem.get("usr/local")
    if local is not None and any(name.startswith("cuda") for name in local.children or ()):
        # only then is the file list worth a pass: most images have no /usr/local/cuda*
        paths += [
            path
            for path, _size, _content in data.files
            if path.startswith("usr/local/cuda") and _SYSTEM_CUDA_TREE.match(path)
        ]
    return frozenset(filter(None, (_library_base(path) for path in paths)))


def _library_base(path: str) -> str:
    match = _SHARED_LIBRARY.match(posixpath.basename(path))
    return match.group(1) if match else ""


def _cuda_twice(data: AnalysisInput, inventory: Inventory, system: frozenset[str]) -> _Found | None:
    """The pip copies (nvidia-* wheels) of libraries the system also ships."""
    if not system:
        return None
    contents: set[ContentId] = set()
    libraries: set[str] = set()
    for index, record in enumerate(inventory.records):
        if not (record.ecosystem is Ecosystem.PYTHON and _NVIDIA_WHEEL.match(record.name)):
            continue
        for path, content in _owned_files(data, inventory, index):
            base = _library_base(path)
            if base in system:
                contents.add(content)
                libraries.add(base)
    return _Found(tuple(sorted(libraries)), frozenset(contents)) if contents else None


# opencv-gui


def _opencv_gui(data: AnalysisInput, inventory: Inventory) -> _Found | None:
    """The files of OpenCV's GUI builds that their headless builds do without."""
    contents: set[ContentId] = set()
    names: list[str] = []
    for index in _python_records(inventory, _OPENCV_GUI_BUILDS):
        record = inventory.records[index]
        libraries = _OPENCV_GUI_BUILDS[record.name][1]
        gui = {
            content
            for path, content in _owned_files(data, inventory, index)
            if _is_opencv_gui_file(path, libraries)
        }
        if gui:
            contents |= gui
            names.append(record.name)
    return _Found(tuple(dict.fromkeys(names)), frozenset(contents)) if contents else None


def _is_opencv_gui_file(path: str, libraries: str) -> bool:
    parts = path.split("/")
    for position, part in enumerate(parts[:-1]):
        if part == "cv2" and parts[position + 1] == "qt":
            return True
        if part == libraries and position == len(parts) - 2:
            return bool(_OPENCV_GUI_LIBRARY.match(parts[-1]))
    return False
