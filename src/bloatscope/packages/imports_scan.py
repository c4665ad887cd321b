"""Which modules a program's Python sources import, read with ``ast``: ``import a.b``,
``from a import b``, and ``importlib.import_module`` / ``__import__`` called with a literal name.

Every import statement counts wherever it stands: inside functions, ``try`` blocks,
``if TYPE_CHECKING:`` and branches that never run, because a static reading cannot tell which
run, and counting too much only keeps a requirement installed. Not seen: relative imports
(they are the program's own modules), names built at run time (``import_module(name)``),
``exec`` of import text, and modules a library or a plugin registry imports on the program's
behalf. Modules of the program itself (its files and packages among the sources) are left out.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

# Past this a source is generated data, not a program; its syntax tree would cost tens of times
# its size in memory.
MAX_SOURCE_CHARS = 4_000_000
_DYNAMIC_IMPORTERS = frozenset({"import_module", "__import__"})
_SOURCE_SUFFIXES = (".py", ".pyw")


@dataclass(frozen=True, slots=True)
class ImportSite:
    """One import of a module: its dotted name as imported, and where."""

    name: str  # "transformers", "google.protobuf.message"; for ``from a import b``: "a.b"
    path: str
    line: int

    @property
    def module(self) -> str:
        """The top-level module: what ``sys.path`` lookup decides."""
        return self.name.partition(".")[0]


@dataclass(frozen=True, slots=True)
class SkippedSource:
    """A source that could not be read as Python: its imports are unknown."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class SourceImports:
    """The third-party imports of a set of sources: every site, in path and line order."""

    sites: tuple[ImportSite, ...]
    local: frozenset[str]  # top-level names the sources themselves define, left out
    skipped: tuple[SkippedSource, ...]

    @property
    def names(self) -> frozenset[str]:
        """Dotted names as imported: ``google.protobuf`` tells protobuf from google-auth."""
        return frozenset(site.name for site in self.sites)

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(site.module for site in self.sites)


def imported_modules(sources: Mapping[str, str]) -> SourceImports:
    """The imports of these sources (path -> text). Paths are best given relative to the
    project's root: the root's own top-level files and directories count as local modules.
    A source that does not parse (bad syntax, null bytes, too deep, too large) is skipped and
    listed; the others still count."""
    local = _local_names(sources)
    sites: list[ImportSite] = []
    skipped: list[SkippedSource] = []
    for path in sorted(sources):
        text = sources[path]
        if len(text) > MAX_SOURCE_CHARS:
            skipped.append(SkippedSource(path, f"larger than {MAX_SOURCE_CHARS} characters"))
            continue
        try:
            tree = ast.parse(text, filename=path)
        except SyntaxError as error:
            skipped.append(SkippedSource(path, f"line {error.lineno}: {error.msg}"))
            continue
        except (ValueError, RecursionError, MemoryError) as error:
            # null bytes (ValueError before 3.12); nesting too deep for the parser
            skipped.append(SkippedSource(path, str(error) or type(error).__name__))
            continue
        found = {
            (name, line) for name, line in _imports(tree) if name.partition(".")[0] not in local
        }
        sites += [ImportSite(name, path, line) for name, line in sorted(found, key=_by_line)]
    return SourceImports(tuple(sites), local, tuple(skipped))


def _by_line(item: tuple[str, int]) -> tuple[int, str]:
    return item[1], item[0]


def _imports(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(dotted name, line) of every absolute import; ``ast.walk`` needs no recursion."""
    importers = _DYNAMIC_IMPORTERS | _importer_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module or node.module == "__future__":
                continue
            for alias in node.names:
                # ``from a import b``: b may be a submodule (google.protobuf) or an attribute;
                # a.b names both, since a provider of ``a`` also matches ``a.b``
                name = node.module if alias.name == "*" else f"{node.module}.{alias.name}"
                yield name, node.lineno
        elif isinstance(node, ast.Call):
            name = _literal_import(node, importers)
            if name:
                yield name, node.lineno


def _importer_aliases(tree: ast.AST) -> set[str]:
    """Local names of ``from importlib import import_module as load``."""
    return {
        alias.asname
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "importlib" and not node.level
        for alias in node.names
        if alias.name in _DYNAMIC_IMPORTERS and alias.asname
    }


def _literal_import(call: ast.Call, importers: frozenset[str]) -> str:
    """The module ``import_module("x")`` or ``__import__("x")`` names, or "": by the called
    name (``importlib`` itself may be imported under any alias)."""
    function = call.func
    called = (
        function.id
        if isinstance(function, ast.Name)
        else function.attr
        if isinstance(function, ast.Attribute)
        else ""
    )
    if called not in importers:
        return ""
    argument: ast.expr | None = call.args[0] if call.args else None
    if argument is None:
        argument = next((k.value for k in call.keywords if k.arg == "name"), None)
    if not isinstance(argument, ast.Constant) or not isinstance(argument.value, str):
        return ""
    name: str = argument.value
    return name if _is_dotted_name(name) else ""  # ".x" is relative: the program's own


def _is_dotted_name(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _local_names(sources: Mapping[str, str]) -> frozenset[str]:
    """Top-level names the sources define: every module file's name (a script's directory is
    on ``sys.path`` when it runs), every directory holding an ``__init__.py``, and the first
    directory of each path (a namespace package at the project root). Deeper directories
    without ``__init__.py`` are not: a project under ``projects/flask/`` must not hide the
    real flask."""
    names: set[str] = set()
    for path in sources:
        parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
        if not parts or ".." in parts:
            continue
        *directories, filename = parts
        stem = filename.removesuffix(posixpath.splitext(filename)[1])
        if filename.endswith(_SOURCE_SUFFIXES) and stem != "__init__":
            names.add(stem)
        if directories:
            names.add(directories[0])
            if stem == "__init__":
                names.add(directories[-1])
    return frozenset(name for name in names if name.isidentifier())
