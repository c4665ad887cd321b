"""Which packages are build or development tools that a runtime image does not need: by name
for Python and Debian, by the database's own mark for npm. Each rule says why, for reports."""

from __future__ import annotations

import re

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord

# Python tools by PEP 503 name. Only tools: libraries a program may import at run time
# (setuptools, wheel, typing-extensions) are not here even when often installed by tools.
_PYTHON: dict[str, str] = {
    **dict.fromkeys(
        (
            "pytest",
            "pytest-cov",
            "pytest-mock",
            "pytest-xdist",
            "pytest-asyncio",
            "pytest-timeout",
            "hypothesis",
            "coverage",
            "tox",
            "nox",
            "mock",
            "responses",
            "freezegun",
            "faker",
        ),
        "test",
    ),
    **dict.fromkeys(
        (
            "flake8",
            "pylint",
            "ruff",
            "pyflakes",
            "pycodestyle",
            "pydocstyle",
            "bandit",
            "pre-commit",
            "mccabe",
            "pep8-naming",
        ),
        "lint",
    ),
    **dict.fromkeys(("black", "isort", "autopep8", "yapf", "autoflake"), "format"),
    **dict.fromkeys(("mypy", "pyright", "pytype", "pyre-check"), "type check"),
    **dict.fromkeys(
        (
            "jupyter",
            "jupyterlab",
            "notebook",
            "jupyter-server",
            "jupyter-client",
            "jupyter-console",
            "jupyter-core",
            "nbconvert",
            "nbformat",
            "ipykernel",
            "ipython",
            "ipywidgets",
            "jupyterlab-server",
            "nbclassic",
            "voila",
            "qtconsole",
            "debugpy",
        ),
        "notebook",
    ),
    **dict.fromkeys(("sphinx", "mkdocs", "mkdocs-material"), "docs"),
    **dict.fromkeys(("twine", "build", "pip-tools", "poetry", "pipenv", "hatch"), "packaging"),
}
_PYTHON_PREFIXES = (("pytest-", "test"), ("flake8-", "lint"), ("types-", "type check"))

_DPKG: dict[str, str] = {
    **dict.fromkeys(
        (
            "build-essential",
            "make",
            "dpkg-dev",
            "libtool",
            "autoconf",
            "automake",
            "cmake",
            "ninja-build",
            "pkg-config",
            "pkgconf",
            "bison",
            "flex",
            "patch",
        ),
        "build tool",
    ),
    **dict.fromkeys(("git", "git-man", "subversion", "mercurial"), "version control"),
}
# gcc-12, g++, cpp-12, binutils-x86-64-linux-gnu...; the libraries they pull in (libisl23,
# libmpc3) are found through the dependency graph, not by name.
_DPKG_COMPILER = re.compile(r"^(?:gcc|g\+\+|cpp|gfortran|clang|binutils)(?:-|$)")


def dev_reason(record: PackageRecord) -> str:
    """Why a package is a development tool ("test", "compiler", "headers", ...), or ""."""
    name = record.name
    if record.ecosystem is Ecosystem.PYTHON:
        reason = _PYTHON.get(name, "")
        if not reason:
            for prefix, why in _PYTHON_PREFIXES:
                if name.startswith(prefix):
                    return why
        return reason
    if record.ecosystem is Ecosystem.NPM:
        return "devDependency" if record.dev else ""
    if record.ecosystem is Ecosystem.DPKG:
        if name in _DPKG:
            return _DPKG[name]
        if name.endswith("-dev") and not name.startswith("libgcc-s"):
            return "headers"
        if _is_compiler(name):
            return "compiler"
    return ""


def _is_compiler(name: str) -> bool:
    """Not gcc-12-base: the runtime library libgcc-s1 depends on it."""
    return bool(_DPKG_COMPILER.search(name)) and not name.endswith("-base")
