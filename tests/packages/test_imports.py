"""Requirements an application never uses: imports read from sources (hostile ones skipped),
modules read from RECORD paths (namespace portions apart), and the requirements that neither an
import, a command, a needed package's dependency nor its optional extra keeps, with the bytes
uninstalling them frees: on a synthetic image by hand, and on naive-bert."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageInventory, PackageRecord, Requirement
from bloatscope.model.report import Report
from bloatscope.packages.catalog import capture_for, catalog, catalogers, image_files
from bloatscope.packages.imports import (
    Need,
    NeededRequirement,
    UnusedRequirements,
    requirement_name,
    unused_requirements,
)
from bloatscope.packages.imports_provided import (
    provided_commands,
    provided_modules,
    provided_names,
)
from bloatscope.packages.imports_scan import MAX_SOURCE_CHARS, ImportSite, imported_modules
from bloatscope.packages.inventory import Inventory
from bloatscope.reader.image_reader import ReadOptions, read_image
from synth import Image, Layer, write_skopeo_archive

SITE = "usr/local/lib/python3.11/site-packages"
NAIVE_BERT = Path("/work/shared/corpus/images/naive-bert")

# --- imports read from sources ---


def test_every_absolute_import_form_counts_wherever_it_stands() -> None:
    source = """\
from __future__ import annotations
import os.path, yaml as y
from google.protobuf import message
from . import sibling
from .rel import thing
from pandas import *
import importlib
from importlib import import_module as load

def later():
    try:
        import torch.nn
    except ImportError:
        torch = None
    importlib.import_module("sklearn.linear_model")
    load("PIL")
    __import__(name="scipy")
    importlib.import_module(".private", "pkg")
    importlib.import_module(computed)
    __import__("not a module")

if TYPE_CHECKING:
    import mypy_extensions
"""
    found = imported_modules({"main.py": source})
    assert found.skipped == ()
    assert found.sites == (
        ImportSite("os.path", "main.py", 2),
        ImportSite("yaml", "main.py", 2),
        ImportSite("google.protobuf.message", "main.py", 3),
        ImportSite("pandas", "main.py", 6),
        ImportSite("importlib", "main.py", 7),
        ImportSite("importlib.import_module", "main.py", 8),
        ImportSite("torch.nn", "main.py", 12),
        ImportSite("sklearn.linear_model", "main.py", 15),
        ImportSite("PIL", "main.py", 16),
        ImportSite("scipy", "main.py", 17),
        ImportSite("mypy_extensions", "main.py", 23),
    )
    assert found.modules == {
        "os", "yaml", "google", "pandas", "importlib", "torch", "sklearn", "PIL", "scipy",
        "mypy_extensions",
    }  # fmt: skip
    assert "google.protobuf.message" in found.names


def test_the_programs_own_modules_are_not_third_party() -> None:
    sources = {
        "app/main.py": "import helpers\nimport app.config\nimport requests\nimport lib\n",
        "app/helpers.py": "import numpy\n",
        "src/mypkg/__init__.py": "import pkg_a\n",
        "src/mypkg/core.py": "import mypkg.util\nimport flask\n",
        # a project that happens to sit in a directory named like a real package
        "projects/flask/views.py": "import flask\n",
    }
    found = imported_modules(sources)
    assert found.local == {"main", "helpers", "app", "src", "mypkg", "core", "projects", "views"}
    assert found.modules == {"requests", "lib", "numpy", "pkg_a", "flask"}
    assert [(s.name, s.path) for s in found.sites if s.name == "flask"] == [
        ("flask", "projects/flask/views.py"),
        ("flask", "src/mypkg/core.py"),
    ]


def test_sources_that_do_not_parse_are_skipped_and_the_rest_still_count() -> None:
    sources = {
        "good.py": "import requests\n",
        "syntax.py": "import flask\ndef f(:\n    pass\n",
        "nul.py": "import a\x00\n",
        "deep.py": "x = " + "1+" * 100_000 + "1\n",
        "parens.py": "x = " + "(" * 300 + ")" * 300,
        "huge.py": "import pandas\n" + "#" * MAX_SOURCE_CHARS,
        "newer.py": "type Alias = int\nimport numpy\n",  # 3.12 syntax
    }
    found = imported_modules(sources)
    assert found.modules == {"requests"}
    skipped = {item.path: item.reason for item in found.skipped}
    assert sorted(skipped) == ["deep.py", "huge.py", "newer.py", "nul.py", "parens.py", "syntax.py"]
    assert skipped["syntax.py"].startswith("line 2: ")
    assert "null bytes" in skipped["nul.py"]
    assert "recursion" in skipped["deep.py"]
    assert "nested parentheses" in skipped["parens.py"]
    assert skipped["huge.py"] == f"larger than {MAX_SOURCE_CHARS} characters"


# --- modules read from RECORD paths ---


def record(
    name: str,
    files: tuple[str, ...] = (),
    *,
    requires: tuple[Requirement, ...] = (),
    requested: bool | None = True,
    files_known: bool = True,
    extras: tuple[str, ...] = (),
) -> PackageRecord:
    """A dist-info in SITE; ``files`` relative to SITE, or to the root when they start with /."""
    return PackageRecord(
        Ecosystem.PYTHON,
        name,
        "1.0",
        f"{SITE}/{name.replace('-', '_')}-1.0.dist-info",
        files=tuple(f[1:] if f.startswith("/") else f"{SITE}/{f}" for f in files),
        files_known=files_known,
        requires=requires,
        requested=requested,
        extras=extras,
    )


def test_modules_come_from_top_level_files_packages_and_namespace_portions() -> None:
    listed = record(
        "mixed",
        (
            "six.py",
            "__pycache__/six.cpython-311.pyc",
            "torch/__init__.py",
            "torch/lib/libtorch_cpu.so",
            "_C.cpython-311-x86_64-linux-gnu.so",
            "legacy.pyc",
            "85cae5375ceb5d1ca6c6__mypyc.cpython-311-x86_64-linux-gnu.so",
            "numpy.libs/libopenblas64_p-r0.so",
            "mixed-1.0.dist-info/RECORD",
            "mixed-1.0.data/scripts/tool",
            "distutils-precedence.pth",
            "google/protobuf/__init__.py",
            "google/protobuf/__pycache__/__init__.cpython-311.pyc",
            "google/_upb/_message.abi3.so",
            "google/cloud/storage/__init__.py",
            "datafiles/readme.txt",
            "bin/helper",
            "/usr/local/bin/mixed-cli",
            "/usr/local/share/jupyter/kernels/k.json",
        ),
    )
    assert provided_names(listed) == {
        "six", "torch", "_C", "legacy", "google.protobuf", "google._upb._message",
        "google.cloud.storage",
    }  # fmt: skip
    assert provided_modules(listed) == {"six", "torch", "_C", "legacy", "google"}
    assert provided_commands(listed) == {"mixed-cli", "helper"}
    assert provided_names(record("metapackage", ("metapackage-1.0.dist-info/METADATA",))) == set()
    assert provided_names(record("unlisted", files_known=False)) == set()


# --- unused requirements on a synthetic image ---


def req(name: str, *, extra: str = "") -> Requirement:
    return Requirement((name,), for_extra=extra)


# bytes of each file of a package: every package its own size, so sums tell them apart
SIZES = {
    "flask": 100, "werkzeug": 110, "jinja2": 120, "markupsafe": 130, "click": 140,
    "pandas": 1000, "numpy": 2000, "openpyxl": 300, "pytest": 400, "pluggy": 41,
    "iniconfig": 42, "black": 500, "protobuf": 600, "google-auth": 700, "gunicorn": 800,
    "base-tool": 50, "packaging": 60,
}  # fmt: skip


def synthetic_records() -> list[PackageRecord]:
    flask_needs = (req("werkzeug"), req("jinja2"), req("click"))
    pandas_needs = (req("numpy"), req("openpyxl", extra="excel"), req("pytest", extra="test"))
    speedups = "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"
    pytest_files = ("pytest/__init__.py", "_pytest/__init__.py", "/usr/local/bin/pytest")
    auth_files = ("google/auth/__init__.py", "google/oauth2/__init__.py")
    return [
        record("flask", ("flask/__init__.py",), requires=flask_needs),
        record("werkzeug", ("werkzeug/__init__.py",), requested=False),
        record("jinja2", ("jinja2/__init__.py",), requires=(req("markupsafe"),), requested=False),
        record("markupsafe", ("markupsafe/__init__.py", speedups)),
        record("click", ("click/__init__.py",), requested=False),
        record("pandas", ("pandas/__init__.py",), requires=pandas_needs, extras=("excel", "test")),
        record("numpy", ("numpy/__init__.py", "numpy.libs/libopenblas.so")),
        record("openpyxl", ("openpyxl/__init__.py",)),
        record("pytest", pytest_files, requires=(req("pluggy"), req("iniconfig"))),
        record("pluggy", ("pluggy/__init__.py",), requested=False),
        record("iniconfig", ("iniconfig/__init__.py",), requested=False),
        record("black", ("black/__init__.py", "/usr/local/bin/black"), requires=(req("click"),)),
        record("protobuf", ("google/protobuf/__init__.py",)),
        record("google-auth", auth_files),
        record("gunicorn", ("gunicorn/__init__.py", "/usr/local/bin/gunicorn")),
        record("legacy", files_known=False),
        # the base image's own tool, which needs packaging
        record(
            "base-tool", ("base_tool/__init__.py",), requires=(req("packaging"),), requested=None
        ),
        record("packaging", ("packaging/__init__.py",), requested=False),
    ]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    records = synthetic_records()
    layer = Layer()
    for item in records:
        for path in item.files:
            layer.file(path, b"x" * SIZES[item.name])
    archive = tmp_path_factory.mktemp("imports") / "image.tar"
    result = read_image(str(write_skopeo_archive(archive, Image([layer.build()]))))
    return Inventory(records, result.image, result.filesystem, result.filesystem.walk())


APP = {
    "app/main.py": "import flask\nfrom google.protobuf import message\nfrom . import views\n",
    "app/views.py": "import pandas as pd\nfrom .main import app\n",
    "app/broken.py": "import black\ndef (:\n",
}
REQUIREMENTS = [
    "Flask>=3", "MarkupSafe", "pandas", "numpy", "openpyxl", "pytest", "black", "protobuf",
    "google_auth", "gunicorn", "legacy", "packaging", "not-installed", "-e .", "flask", "  ",
]  # fmt: skip


def by_name(result: UnusedRequirements) -> dict[str, NeededRequirement]:
    return {item.name: item for item in result.needed}


def test_requirements_are_needed_by_import_dependency_extra_or_keeper(
    synthetic: Inventory,
) -> None:
    imports = imported_modules(APP)
    assert [item.path for item in imports.skipped] == ["app/broken.py"]
    result = unused_requirements(synthetic, REQUIREMENTS, imports)
    assert result.unused == ("pytest", "black", "google_auth", "gunicorn")
    assert result.unknown == ("not-installed", "-e .")  # the second "flask" is the first
    needed = by_name(result)
    assert {name: (item.how, item.chain) for name, item in needed.items()} == {
        "Flask>=3": (Need.IMPORTED, ("flask",)),
        "MarkupSafe": (Need.REQUIRED, ("flask", "jinja2", "markupsafe")),
        "pandas": (Need.IMPORTED, ("pandas",)),
        "numpy": (Need.REQUIRED, ("pandas", "numpy")),
        "openpyxl": (Need.OPTIONAL, ("pandas", "openpyxl")),
        "protobuf": (Need.IMPORTED, ("protobuf",)),
        "legacy": (Need.UNLISTED, ("legacy",)),
        "packaging": (Need.KEPT, ("base-tool", "packaging")),
    }
    assert needed["protobuf"].trigger == "google.protobuf.message"
    assert needed["openpyxl"].via_extra == "pandas[excel]"
    assert [item.name for item in result.only_optional] == ["openpyxl"]
    assert "pandas[excel]" in needed["openpyxl"].reason
    assert needed["packaging"].reason == "base-tool requires it and stays installed"
    # pandas[test] names pytest, but a development extra keeps nothing
    removed = {package.name for package in result.removal.removed}
    assert removed == {"pytest", "pluggy", "iniconfig", "black", "google-auth", "gunicorn"}
    # click stays: flask needs it although black, going, needs it too
    expected = 3 * 400 + 41 + 42 + 2 * 500 + 2 * 700 + 2 * 800
    assert result.freed_bytes == expected
    assert synthetic.what_if_remove(list(result.unused)).freed_bytes == expected
    assert result.unresolved_imports == ()
    assert result.optional_removed == ()


def test_a_bare_namespace_import_or_a_command_keeps_their_providers(synthetic: Inventory) -> None:
    result = unused_requirements(
        synthetic, ["protobuf", "google-auth", "gunicorn", "pytest"], {"google", "yaml", "os"},
        commands=["/usr/local/bin/gunicorn"],
    )  # fmt: skip
    assert result.unused == ("pytest",)
    needed = by_name(result)
    assert needed["google-auth"].how is Need.IMPORTED and needed["protobuf"].how is Need.IMPORTED
    assert (needed["gunicorn"].how, needed["gunicorn"].trigger) == (Need.COMMAND, "gunicorn")
    assert result.unresolved_imports == ("yaml",)  # os is the standard library's


def test_requirement_names_come_from_lines_and_wheels() -> None:
    assert requirement_name("requests[socks]>=2.0; python_version > '3'") == "requests"
    assert requirement_name("/tmp/torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl") == "torch"
    assert requirement_name("/tmp/torch-*.whl") == "torch"
    assert requirement_name("Typing_Extensions") == "Typing_Extensions"
    assert requirement_name("-r other.txt") == ""
    assert requirement_name("git+https://example.com/x.git") == ""


# --- naive-bert: its real application, requirements and image ---


@pytest.fixture(scope="module")
def naive_bert(naive_bert_report: Report) -> Inventory:
    chosen = catalogers()
    result = read_image(naive_bert_report.image.reference, ReadOptions(capture=capture_for(chosen)))
    records = catalog(image_files(result.image, result.filesystem, result.captured), chosen, [])
    return Inventory(records, result.image, result.filesystem, result.filesystem.walk())


def hard_closure(inventory: Inventory, start: set[int]) -> set[int]:
    seen, pending = set(start), deque(start)
    while pending:
        for target in inventory.graph.hard_edges[pending.popleft()]:
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def test_naive_bert_needs_transformers_and_torch_and_not_its_dev_and_plot_stack(
    naive_bert: Inventory, naive_bert_report: Report
) -> None:
    source = (NAIVE_BERT / "app" / "predictor.py").read_text()
    requirements = (NAIVE_BERT / "requirements.txt").read_text().split()
    imports = imported_modules({"app/predictor.py": source})
    assert imports.modules == {"sys", "transformers"}
    result = unused_requirements(naive_bert, [*requirements, "/tmp/torch-*.whl"], imports)
    assert result.unknown == () and result.unresolved_imports == ()
    assert set(result.unused) == {
        "flask", "pandas", "pytest", "jupyter", "ipython", "matplotlib", "seaborn", "black",
        "flake8", "mypy",
    }  # fmt: skip
    needed = by_name(result)
    assert needed["transformers"].how is Need.IMPORTED
    assert needed["numpy"].chain == ("transformers", "numpy")
    # transformers runs its pipelines on torch, an extra it does not require
    assert (needed["/tmp/torch-*.whl"].how, needed["/tmp/torch-*.whl"].via_extra) == (
        Need.OPTIONAL,
        "transformers[torch]",
    )
    assert needed["pillow"].via_extra == "transformers[vision]"
    assert needed["scikit-learn"].via_extra == "transformers[sklearn]"
    # kept only by optional extras, torch apart (the backend transformers runs on)
    assert {item.name for item in result.only_optional} == {"pillow", "scikit-learn", "requests"}

    # independently: nothing unused holds the transformers package, nothing the transformers
    # package hard-requires is unused or removed, and the torch its extra names stays
    python = [i for i, r in enumerate(naive_bert.records) if r.ecosystem is Ecosystem.PYTHON]
    site = f"{SITE.replace('site-packages', 'dist-packages')}/"
    holders = {
        i
        for i in python
        if any(f.startswith(f"{site}transformers/") for f in naive_bert.records[i].files)
    }
    assert [naive_bert.records[i].name for i in holders] == ["transformers"]
    closure = hard_closure(naive_bert, holders)
    closure_names = {naive_bert.records[i].name for i in closure}
    assert {"numpy", "tokenizers", "huggingface-hub"} <= closure_names
    assert not closure_names & set(result.unused)
    removed = {package.record.key for package in result.removal.removed}
    assert not removed & {naive_bert.records[i].key for i in closure}
    assert not {"torch", "pillow", "scikit-learn", "requests"} & {
        p.name for p in result.removal.removed
    }
    # what a needed package's extras name: the kept requirements outside the closure, and the
    # unused ones only through development extras
    extras: dict[str, set[str]] = {}
    for index in closure:
        for requirement in naive_bert.records[index].requires:
            for name in requirement.names:
                extras.setdefault(name, set()).add(requirement.for_extra)
    kept = {requirement_name(r) for r in requirements} - set(result.unused) | {"torch"}
    assert kept == {"transformers", "numpy", "requests", "pillow", "scikit-learn", "torch"}
    assert all(name in closure_names or extras.get(name, set()) - {""} for name in kept)
    development = {"test", "tests", "testing", "test-full", "deepspeed-testing", "dev"}
    development |= {"quality", "all", "benchmarking"}
    assert extras["pytest"] <= development and extras["mypy"] <= development
    assert extras["pandas"] == {"test-full"}  # fsspec's
    assert not {"flask", "jupyter", "matplotlib", "seaborn", "black", "flake8"} & set(extras)
    # a rebuild without them drops two optional extras of needed packages, reported
    assert set(result.optional_removed) == {"itsdangerous", "mistune"}

    inventory: PackageInventory | None = naive_bert_report.packages
    assert inventory is not None
    what_if = inventory.what_if_remove([f"python:{name}" for name in result.unused])
    assert result.freed_bytes == what_if.freed_bytes
    assert {p.name for p in what_if.removed} == {p.name for p in result.removal.removed}
    assert result.freed_bytes > 300_000_000
    jupyter = next(p for p in inventory.packages if p.name == "jupyter")
    assert result.freed_bytes > jupyter.exclusive_bytes
