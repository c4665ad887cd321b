"""ML stacks heavier than needed: CUDA torch, several frameworks, OpenCV's GUI build, CUDA
shipped twice. Synthetic images whose files match hand-written package records; each group's
exact bytes and names, and the lookalikes left alone (CPU torch, headless OpenCV, one
framework, system CUDA alone)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bloatscope.analysis.ai_stacks import AiStacksAnalyzer
from bloatscope.analysis.base import AnalysisInput
from bloatscope.analysis.findings import find
from bloatscope.analysis.reclaimable import reclaimable, visible_content
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.finding import Finding, Severity
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.model.report import Report
from bloatscope.packages.inventory import Inventory
from bloatscope.reader.image_reader import read_image
from synth import Image, Layer, write_skopeo_archive

SITE = "usr/local/lib/python3.11/site-packages"
VENV = "opt/venv/lib/python3.11/site-packages"


class Spec:
    """One package for a test: its record and the sizes of its files (paths under ``root``)."""

    def __init__(
        self,
        name: str,
        version: str,
        files: dict[str, int],
        requires: Iterable[str] = (),
        *,
        requested: bool = True,
        ecosystem: Ecosystem = Ecosystem.PYTHON,
        root: str = SITE,
    ) -> None:
        self.files = {f"{root}/{path}" if root else path: size for path, size in files.items()}
        location = (
            f"{root}/{name.replace('-', '_')}-{version}.dist-info"
            if ecosystem is Ecosystem.PYTHON
            else "var/lib/dpkg/status"
        )
        self.record = PackageRecord(
            ecosystem=ecosystem,
            name=name,
            version=version,
            location=location,
            files=tuple(self.files),
            requires=tuple(Requirement((target,)) for target in requires),
            requested=requested,
        )


def analysis_input(
    tmp_path: Path, specs: list[Spec], unowned: dict[str, int] | None = None
) -> AnalysisInput:
    """The image holding every spec's files (each byte distinct) plus ``unowned`` files, read
    back and measured against the specs' records."""
    layer = Layer()
    for spec in specs:
        for path, size in spec.files.items():
            layer.file(path, path.encode()[:1] * size)
    for path, size in (unowned or {}).items():
        layer.file(path, b"u" * size)
    archive = write_skopeo_archive(tmp_path / "image.tar", Image([layer.build()]))
    result = read_image(str(archive))
    nodes = result.filesystem.walk()
    visible = visible_content(nodes)
    waste = reclaimable(result.image, result.filesystem, result.changes, visible)
    inventory = Inventory([spec.record for spec in specs], result.image, result.filesystem, nodes)
    return AnalysisInput(
        result.image, result.filesystem, result.changes, nodes, visible, waste, inventory
    )


def findings(data: AnalysisInput) -> dict[str, Finding]:
    found = find(data, [AiStacksAnalyzer()])
    assert len({f.group for f in found}) == len(found)  # one layer: one finding per group
    return {finding.group: finding for finding in found}


def cuda_wheel(name: str, libraries: dict[str, int], requires: Iterable[str] = ()) -> Spec:
    directory = name.removeprefix("nvidia-").removesuffix("-cu12").replace("-", "_")
    files = {f"nvidia/{directory}/lib/{library}": size for library, size in libraries.items()}
    files[f"nvidia/{directory}/__init__.py"] = 3
    return Spec(name, "12.1.3.1", files, requires, requested=False)


def filelock() -> Spec:
    return Spec("filelock", "3.13.1", {"filelock/__init__.py": 40}, requested=False)


def gpu_stack(torch_version: str = "2.3.0+cu121") -> list[Spec]:
    """GPU torch as pip installs it: its own CUDA libraries, the CUDA wheels, triton."""
    torch = Spec(
        "torch",
        torch_version,
        {
            "torch/__init__.py": 100,
            "torch/lib/libtorch_cpu.so": 5000,
            "torch/lib/libtorch_cuda.so": 1000,
            "torch/lib/libc10_cuda.so": 300,
            "torch/lib/libc10.so": 200,
            "torch/lib/libcaffe2_nvrtc.so": 20,
            "torch/lib/libnvToolsExt-847d78f2.so.1": 10,
        },
        ["filelock", "nvidia-cublas-cu12", "nvidia-cudnn-cu12", "triton"],
    )
    return [
        torch,
        cuda_wheel("nvidia-cublas-cu12", {"libcublas.so.12": 2000, "libcublasLt.so.12": 3000}),
        cuda_wheel("nvidia-cudnn-cu12", {"libcudnn.so.8": 4000}, ["nvidia-cublas-cu12"]),
        Spec("triton", "2.3.0", {"triton/_C/libtriton.so": 700}, ["filelock"], requested=False),
        filelock(),
    ]


# the CUDA files of gpu_stack's torch: libtorch_cuda, libc10_cuda, caffe2_nvrtc, nvToolsExt
TORCH_CUDA_FILES = 1000 + 300 + 20 + 10
CUDA_WHEELS = (2000 + 3000 + 3) + (4000 + 3)
TRITON = 700


def test_cuda_torch_claims_the_wheels_triton_and_its_own_cuda_libraries(tmp_path: Path) -> None:
    found = findings(analysis_input(tmp_path, gpu_stack()))
    assert set(found) == {"cuda-torch"}
    finding = found["cuda-torch"]
    assert finding.cause == "ai-stack"
    assert finding.bytes == TORCH_CUDA_FILES + CUDA_WHEELS + TRITON
    assert finding.path_count == 4 + 5 + 1
    assert finding.severity is Severity.HIGH
    assert finding.title == (
        "CUDA build of torch where a CPU build would do: torch 2.3.0+cu121, "
        "nvidia-cublas-cu12, nvidia-cudnn-cu12, triton"
    )
    assert "without a GPU" in finding.fix
    assert "--index-url https://download.pytorch.org/whl/cpu" in finding.fix
    assert finding.paths[0] == f"/{SITE}/nvidia/cudnn/lib/libcudnn.so.8"


def test_pypi_torch_without_a_local_version_is_known_by_its_cuda_wheels(tmp_path: Path) -> None:
    _cuda_torch, *rest = gpu_stack()
    requires = ["filelock", "nvidia-cublas-cu12", "nvidia-cudnn-cu12", "triton"]
    plain = Spec("torch", "2.3.0", {"torch/lib/libtorch_cpu.so": 5000}, requires)
    found = findings(analysis_input(tmp_path, [plain, *rest]))
    assert found["cuda-torch"].bytes == CUDA_WHEELS + TRITON
    assert "torch 2.3.0, nvidia-cublas-cu12" in found["cuda-torch"].title


def test_torch_with_bundled_cuda_libraries_and_no_wheels_is_gpu_torch(tmp_path: Path) -> None:
    torch = Spec(
        "torch",
        "2.3.0",
        {"torch/lib/libtorch_cpu.so": 5000, "torch/lib/libcudnn.so.8": 4000},
    )
    found = findings(analysis_input(tmp_path, [torch]))
    assert found["cuda-torch"].bytes == 4000
    assert found["cuda-torch"].paths == (f"/{SITE}/torch/lib/libcudnn.so.8",)


def test_cpu_torch_is_not_flagged(tmp_path: Path) -> None:
    torch = Spec(
        "torch",
        "2.3.0+cpu",
        {
            "torch/__init__.py": 100,
            "torch/lib/libtorch_cpu.so": 5000,
            "torch/lib/libc10.so": 200,
            "torch/lib/libgomp-a34b3233.so.1": 300,
            "torch/cuda/__init__.py": 50,  # the Python API exists in every build
        },
        ["filelock"],
    )
    assert findings(analysis_input(tmp_path, [torch, filelock()])) == {}


def test_a_cuda_wheel_another_library_needs_stays(tmp_path: Path) -> None:
    cupy = Spec("cupy-cuda12x", "13.0.0", {"cupy/_core.so": 900}, ["nvidia-cublas-cu12"])
    found = findings(analysis_input(tmp_path, [*gpu_stack(), cupy]))
    assert found["cuda-torch"].bytes == TORCH_CUDA_FILES + (4000 + 3) + TRITON
    assert "nvidia-cublas-cu12" not in found["cuda-torch"].title


def test_cuda_wheels_without_torch_are_not_cuda_torch(tmp_path: Path) -> None:
    cupy = Spec("cupy-cuda12x", "13.0.0", {"cupy/_core.so": 900}, ["nvidia-cublas-cu12"])
    wheel = cuda_wheel("nvidia-cublas-cu12", {"libcublas.so.12": 2000})
    assert findings(analysis_input(tmp_path, [cupy, wheel])) == {}


def frameworks() -> list[Spec]:
    return [
        Spec("torch", "2.3.0+cpu", {"torch/lib/libtorch_cpu.so": 5000}, ["numpy"]),
        Spec(
            "tensorflow",
            "2.16.1",
            {"tensorflow/libtensorflow_cc.so.2": 3000},
            ["numpy", "tensorboard"],
        ),
        Spec("tensorboard", "2.16.2", {"tensorboard/main.py": 500}, requested=False),
        Spec("jax", "0.4.30", {"jax/__init__.py": 100}, ["jaxlib", "numpy"]),
        Spec("jaxlib", "0.4.30", {"jaxlib/xla_extension.so": 800}, ["numpy"], requested=False),
        Spec("numpy", "1.26.4", {"numpy/core/_multiarray_umath.so": 400}, requested=False),
    ]


def test_several_frameworks_claim_all_but_the_largest(tmp_path: Path) -> None:
    found = findings(analysis_input(tmp_path, frameworks()))
    assert set(found) == {"frameworks"}
    finding = found["frameworks"]
    # tensorflow with tensorboard, jax with jaxlib; numpy stays for torch
    assert finding.bytes == 3000 + 500 + 100 + 800
    assert finding.title == (
        "Several ML frameworks installed: torch 2.3.0+cpu, tensorflow 2.16.1, "
        "jax 0.4.30 + jaxlib 0.4.30 (counting all but torch, the largest)"
    )
    assert finding.severity is Severity.MEDIUM
    assert finding.fix.startswith("Keep one framework")


def test_one_framework_is_not_flagged(tmp_path: Path) -> None:
    torch, *_rest = frameworks()
    numpy = frameworks()[-1]
    assert findings(analysis_input(tmp_path, [torch, numpy])) == {}


def test_frameworks_in_separate_environments_are_not_flagged(tmp_path: Path) -> None:
    torch = Spec("torch", "2.3.0+cpu", {"torch/lib/libtorch_cpu.so": 5000})
    tensorflow = Spec("tensorflow", "2.16.1", {"tensorflow/libtf.so": 3000}, root=VENV)
    assert findings(analysis_input(tmp_path, [torch, tensorflow])) == {}


def test_a_framework_another_package_needs_is_not_claimed(tmp_path: Path) -> None:
    keras = Spec("tf-keras", "2.16.0", {"tf_keras/__init__.py": 60}, ["tensorflow"])
    found = findings(analysis_input(tmp_path, [*frameworks(), keras]))
    assert found["frameworks"].bytes == 100 + 800  # jax only


def test_a_gpu_torch_smaller_than_tensorflow_goes_whole_under_frameworks(tmp_path: Path) -> None:
    tensorflow = Spec("tensorflow", "2.16.1", {"tensorflow/libtensorflow_cc.so.2": 90_000})
    found = findings(analysis_input(tmp_path, [*gpu_stack(), tensorflow]))
    assert set(found) == {"frameworks"}
    torch_bytes = 100 + 5000 + 1000 + 300 + 200 + 20 + 10
    assert found["frameworks"].bytes == torch_bytes + CUDA_WHEELS + TRITON + 40  # and filelock


OPENCV_GUI_ONLY = {
    "cv2/qt/fonts/DejaVuSans.ttf": 700,
    "cv2/qt/plugins/platforms/libqxcb.so": 300,
    "opencv_python.libs/libQt5Core-39545cc7.so.5.15.0": 2000,
    "opencv_python.libs/libQt5Gui-48e93d5c.so.5.15.0": 1500,
    "opencv_python.libs/libX11-xcb-0e257303.so.1.0.0": 50,
    "opencv_python.libs/libxcb-icccm-413c9f41.so.4.0.0": 30,
    "opencv_python.libs/libxkbcommon-71ae2972.so.0.0.0": 250,
    "opencv_python.libs/libfreetype-4bd2d6f0.so.6.20.1": 600,
}
OPENCV_COMMON = {
    "cv2/cv2.abi3.so": 4000,
    "cv2/__init__.py": 20,
    "opencv_python.libs/libpng16-1bde1c40.so.16.40.0": 200,
    "opencv_python.libs/libavcodec-9aae324f.so.59.37.100": 9000,
    "opencv_python.libs/libz-a147dcb0.so.1.2.3": 100,
}


def test_opencv_gui_build_claims_qt_x11_and_fonts_only(tmp_path: Path) -> None:
    opencv = Spec("opencv-python", "4.9.0.80", {**OPENCV_GUI_ONLY, **OPENCV_COMMON}, ["numpy"])
    numpy = Spec("numpy", "1.26.4", {"numpy/__init__.py": 10}, requested=False)
    found = findings(analysis_input(tmp_path, [opencv, numpy]))
    assert set(found) == {"opencv-gui"}
    finding = found["opencv-gui"]
    assert finding.bytes == sum(OPENCV_GUI_ONLY.values())
    assert finding.path_count == len(OPENCV_GUI_ONLY)
    assert finding.title == "OpenCV GUI build (Qt, X11) in the image: opencv-python"
    assert "opencv-python-headless" in finding.fix
    assert finding.severity is Severity.MEDIUM


def test_opencv_contrib_gui_build_names_its_own_headless_build(tmp_path: Path) -> None:
    files = {
        "cv2/qt/fonts/DejaVuSans.ttf": 700,
        "opencv_contrib_python.libs/libQt5Widgets-cd430389.so.5.15.0": 900,
        "opencv_contrib_python.libs/libpng16-1bde1c40.so.16.40.0": 200,
        "opencv_python.libs/libQt5Core-39545cc7.so.5.15.0": 80,  # not this build's directory
    }
    opencv = Spec("opencv-contrib-python", "4.9.0.80", files)
    found = findings(analysis_input(tmp_path, [opencv]))
    assert found["opencv-gui"].bytes == 700 + 900
    assert "opencv-contrib-python-headless" in found["opencv-gui"].fix


def test_headless_opencv_is_not_flagged(tmp_path: Path) -> None:
    files = {
        "cv2/cv2.abi3.so": 4000,
        "opencv_python_headless.libs/libpng16-1bde1c40.so.16.40.0": 200,
        "opencv_python_headless.libs/libxcb-shm-0be6dfbf.so.0.0.0": 20,
        "opencv_python_headless.libs/libavcodec-9aae324f.so.59.37.100": 9000,
    }
    headless = Spec("opencv-python-headless", "4.13.0.90", files)
    assert findings(analysis_input(tmp_path, [headless])) == {}


SYSTEM_LIB = "usr/local/cuda-12.1/targets/x86_64-linux/lib"


def system_cuda() -> Spec:
    return Spec(
        "libcublas-12-1",
        "12.1.3.1-1",
        {
            f"{SYSTEM_LIB}/libcublas.so.12.1.3.1": 6000,
            f"{SYSTEM_LIB}/libcublasLt.so.12.1.3.1": 8000,
            f"{SYSTEM_LIB}/libcublas_static.a": 100,
        },
        ecosystem=Ecosystem.DPKG,
        root="",
    )


def test_cuda_shipped_twice_claims_the_pip_copies(tmp_path: Path) -> None:
    torch = Spec(
        "torch",
        "2.3.0",
        {"torch/lib/libtorch_cuda.so": 1000},
        ["nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12"],
    )
    cublas = cuda_wheel(
        "nvidia-cublas-cu12",
        {"libcublas.so.12": 2000, "libcublasLt.so.12": 3000, "libnvblas.so.12": 70},
    )
    runtime = cuda_wheel("nvidia-cuda-runtime-cu12", {"libcudart.so.12": 90})
    # a runtime the system ships outside any package (a tarball install)
    unowned = {"usr/local/cuda-12.1/lib64/libcudart.so.12.1.105": 500}
    data = analysis_input(tmp_path, [system_cuda(), torch, cublas, runtime], unowned)
    found = findings(data)
    # a CUDA base is meant for a GPU: no CPU torch advice there
    assert set(found) == {"cuda-twice"}
    finding = found["cuda-twice"]
    assert finding.bytes == 2000 + 3000 + 90  # not libnvblas: the system has none
    assert finding.title == (
        "CUDA libraries shipped twice, by the system and by pip: libcublas, libcublasLt, libcudart"
    )
    assert finding.severity is Severity.HIGH
    assert "LD_LIBRARY_PATH" in finding.fix


def test_system_cuda_alone_is_not_flagged(tmp_path: Path) -> None:
    torch = Spec("torch", "2.3.0+cpu", {"torch/lib/libtorch_cpu.so": 5000})
    assert findings(analysis_input(tmp_path, [system_cuda(), torch])) == {}


def test_no_inventory_no_claims(tmp_path: Path) -> None:
    data = analysis_input(tmp_path, gpu_stack())
    bare = AnalysisInput(
        data.image, data.filesystem, data.changes, data.nodes, data.visible, data.shadowed
    )
    assert find(bare, [AiStacksAnalyzer()]) == ()


def test_naive_bert_cpu_torch_is_not_an_ai_stack(naive_bert_report: Report) -> None:
    """The corpus lookalike: torch+cpu, no CUDA wheels (meaningful once the analyzer is among
    the default ones that analyze runs)."""
    assert naive_bert_report.packages is not None
    torch = [p for p in naive_bert_report.packages.packages if p.name == "torch"]
    assert [p.version.endswith("+cpu") for p in torch] == [True]
    assert not any(p.name.startswith("nvidia-") for p in naive_bert_report.packages.packages)
    assert [f for f in naive_bert_report.findings if f.cause == "ai-stack"] == []
