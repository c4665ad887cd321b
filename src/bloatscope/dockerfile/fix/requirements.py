"""Lighter dependencies: the requirements the application's own code never uses (its imports
against what each installed distribution provides, through the dependency graph), offered as
a suggestion with the bytes they take. Applied, the fix writes ``requirements.runtime.txt``
beside the original and has the Dockerfile copy that one instead."""

from __future__ import annotations

import os
import posixpath

from bloatscope.dockerfile.fix.base import Change, Draft, FixContext, Fixer
from bloatscope.dockerfile.fix.text import PIP_INSTALL, annotate
from bloatscope.dockerfile.shell_commands import split_commands
from bloatscope.model.dockerfile import Instruction
from bloatscope.model.report import Report
from bloatscope.packages.imports import UnusedRequirements, requirement_name, unused_requirements
from bloatscope.packages.imports_scan import imported_modules
from bloatscope.packages.inventory import Inventory
from bloatscope.packages.python import canonical

RUNTIME_REQUIREMENTS = "requirements.runtime.txt"
_SKIPPED_DIRS = frozenset({".git", "venv", ".venv", "node_modules", "__pycache__", "site-packages"})
_MAX_SOURCES = 5_000
_MAX_SOURCE_BYTES = 2_000_000


class UnusedRequirementsFixer(Fixer):
    id = "unused-requirements"

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        report, directory = context.report, context.context_dir
        if report is None or report.packages is None or directory is None:
            return []
        final = context.dockerfile.final_stage
        installs = [
            i for i in final.instructions if i.keyword == "RUN" and PIP_INSTALL.search(i.script)
        ]
        found = _requirement_files(final.instructions, installs)
        if not found:
            return []
        copy, source, _words = found[0]
        path = os.path.join(directory, source)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(1_000_000)
        except (OSError, UnicodeDecodeError):
            return []
        names = [line.strip() for line in text.splitlines() if _is_requirement(line)]
        names += [
            word for i in installs for word in _install_arguments(i) if requirement_name(word)
        ]
        sources = _application_sources(directory, final.instructions)
        commands = [
            i.arguments[0]
            for i in final.instructions
            if i.keyword in ("CMD", "ENTRYPOINT") and i.arguments
        ]
        inventory = _inventory(report)
        result = unused_requirements(inventory, names, imported_modules(sources), commands=commands)
        dropped = [*result.unused, *(item.name for item in result.only_optional)]
        if not dropped:
            return []
        indexes = sorted(
            {i for name in dropped for i in inventory.find(f"python:{requirement_name(name)}")}
        )
        saved = inventory.removal(indexes).freed_bytes
        keep = _kept_lines(text, dropped)
        applied = context.apply_suggestions
        block = next(b for b in draft.blocks if b.origin is copy)
        if applied:
            draft.files[RUNTIME_REQUIREMENTS] = keep
            block.text = annotate(
                block.text.replace(source, RUNTIME_REQUIREMENTS, 1),
                "only the requirements the application imports",
                saved,
            )
        else:
            block.text = annotate(block.text, f"suggestion: drop {', '.join(dropped)}", saved)
        return [
            Change(
                self.id,
                None,
                f"requirements the application never imports: {', '.join(dropped)}",
                copy.line,
                saved,
                suggestion=True,
                applied=applied,
                detail=_details(result),
            )
        ]


def _requirement_files(
    instructions: tuple[Instruction, ...], installs: list[Instruction]
) -> list[tuple[Instruction, str, list[str]]]:
    """(the COPY, its context source, the install lines) for each requirements file a pip
    install of the stage reads with ``-r``."""
    found = []
    for install in installs:
        words = _install_arguments(install)
        files = [
            words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-r", "--requirement")
        ]
        for name in files:
            for copy in instructions:
                if copy.keyword != "COPY" or copy.flag("from") or len(copy.expanded) != 2:
                    continue
                source, destination = copy.expanded
                wanted = posixpath.basename(name)
                dest_name = posixpath.basename(destination.rstrip("/"))
                if wanted in (posixpath.basename(source), dest_name):
                    found.append((copy, source, words))
    return found


# pip install options that take a value (the value is not a requirement)
_WITH_VALUE = frozenset(
    {
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
        "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
        "--platform", "--python-version", "--implementation", "--abi", "--src", "--cache-dir",
        "--progress-bar", "--upgrade-strategy", "--trusted-host", "--proxy", "--timeout",
        "--retries", "--log", "--report", "--config-settings", "-C",
    }
)  # fmt: skip


def _install_arguments(instruction: Instruction) -> list[str]:
    """The words after ``pip install`` in each pip command of the RUN: options and their
    values included (``-r`` is how requirement files are found)."""
    words: list[str] = []
    for command in split_commands(instruction.script):
        args = list(command.args)
        if command.program.startswith("python") and args[:2] == ["-m", "pip"]:
            args = args[2:]
        elif not command.program.startswith("pip"):
            continue
        if args[:1] == ["install"]:
            words += args[1:]
    return words


def _requirement_arguments(words: list[str]) -> list[str]:
    """The requirements named on the command line: not options, nor options' values."""
    found = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _WITH_VALUE
        elif requirement_name(word):
            found.append(word)
    return found


def _is_requirement(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("#", "-"))


def _kept_lines(text: str, dropped: list[str]) -> str:
    gone = {canonical(requirement_name(name) or name) for name in dropped}
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not _is_requirement(line)
        or canonical(requirement_name(line.strip()) or line) not in gone
    ]
    header = "# written by bloatscope fix: the requirements the application imports\n"
    return header + "".join(kept)


def _application_sources(directory: str, instructions: tuple[Instruction, ...]) -> dict[str, str]:
    """The Python files of the context the final stage copies in (junk directories apart)."""
    roots = []
    for copy in instructions:
        if copy.keyword in ("COPY", "ADD") and not copy.flag("from"):
            roots += [s for s in copy.expanded[:-1] if "://" not in s]
    sources: dict[str, str] = {}
    for root in roots:
        start = os.path.normpath(os.path.join(directory, root))
        if not start.startswith(os.path.normpath(directory)):
            continue
        for path in _python_files(start):
            if len(sources) >= _MAX_SOURCES:
                return sources
            relative = os.path.relpath(path, directory)
            try:
                if os.path.getsize(path) > _MAX_SOURCE_BYTES:
                    continue
                with open(path, encoding="utf-8", errors="replace") as handle:
                    sources[relative] = handle.read()
            except OSError:
                continue
    return sources


def _python_files(start: str) -> list[str]:
    if os.path.isfile(start):
        return [start] if start.endswith(".py") else []
    found = []
    for folder, directories, files in os.walk(start):
        directories[:] = [d for d in directories if d not in _SKIPPED_DIRS]
        found += [os.path.join(folder, name) for name in files if name.endswith(".py")]
    return found


def _inventory(report: Report) -> Inventory:
    assert report.packages is not None
    records = [package.record for package in report.packages.packages]
    nodes = report.filesystem.walk()
    return Inventory(records, report.image, report.filesystem, nodes, report.reclaimable.files)


def _details(result: UnusedRequirements) -> tuple[str, ...]:
    lines = [f"{name}: nothing imports it" for name in result.unused]
    lines += [f"{item.name}: only {item.via_extra} lists it" for item in result.only_optional]
    return tuple(lines)
