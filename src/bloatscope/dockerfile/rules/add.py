"""Size rule for ADD (BS130): a downloaded archive or installer stays in ADD's layer, and ADD of
plain local files does what COPY does, plus unpacking whatever turns out to be a tar.

hadolint's DL3020 flags an ADD unless every source ends like an archive or starts with
``http://``/``https://``. This rule agrees on plain local files, and differs where Docker's
behaviour says otherwise: ADD unpacks a local tar whatever its name's case and also when
zstd-compressed (DL3020 flags ``.TAR.GZ`` and ``.tar.zst``), but not ``.Z``, ``.lz`` or
``.lzma`` files, which it copies as they are (DL3020 passes them); a git source
(``git@host:repo``) is cloned, which COPY cannot do (DL3020 flags it); a source whose
variable is not set is not judged. hadolint has no rule for downloads; this one flags a URL
whose file is an archive or installer, or which a later RUN in the stage works on."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.rules.context import image_stages, source_index, sources, word_position
from bloatscope.model.dockerfile import Dockerfile, Instruction, Stage
from bloatscope.model.finding import Severity

# What the bytes of a download kept in ADD's layer are counted as: left where it landed, or
# hidden by a later RUN that deleted, replaced or chmod-ed it.
DOWNLOAD_CAUSES = frozenset({"installer-left", "deleted", "overwritten", "metadata-only"})
# Docker unpacks a local tar, plain or compressed with gzip, bzip2, xz or zstd; it looks at
# the content, and a linter has only the name.
_UNPACKED_SUFFIXES = (
    ".tar",
    ".tgz",
    ".tbz2",
    ".tbz",
    ".tb2",
    ".txz",
    ".tzst",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
)
_URL_PREFIXES = ("http://", "https://")  # BuildKit's test, case and all
_GIT_PREFIXES = ("git@", "git://", "ssh://")
_INSTALLER_SCRIPT = re.compile(r"\.(?:sh|run|bin|exe|msi)$", re.IGNORECASE)


def _installer(name: str) -> str | None:
    """The installers analysis' kind for a file name (loaded only when an ADD downloads)."""
    from bloatscope.analysis.installers import installer_kind  # noqa: PLC0415

    return installer_kind(name)


def is_url(source: str) -> bool:
    return source.startswith(_URL_PREFIXES)


def is_git(source: str) -> bool:
    """A git repository ADD clones: ``git@host:repo``, ``git://``, ``ssh://``, or an http(s)
    URL whose path ends in ``.git`` (a ``#ref`` may follow)."""
    if source.startswith(_GIT_PREFIXES):
        return True
    return is_url(source) and source.partition("#")[0].rstrip("/").endswith(".git")


def may_unpack(source: str) -> bool:
    return source.lower().endswith(_UNPACKED_SUFFIXES)


class AddUrlOrArchive(Rule):
    id = "BS130"
    name = "add-url-or-archive"
    hadolint = "DL3020"
    severity = Severity.MEDIUM
    title = "ADD keeps a download in its layer, or copies plain files COPY would"

    def check(self, context: LintContext) -> Iterator[Violation]:
        dockerfile = context.dockerfile
        in_image = set(image_stages(dockerfile))
        for stage in dockerfile.stages:
            for instruction in stage.instructions:
                if instruction.keyword != "ADD" or instruction.flag("from") is not None:
                    continue
                found = None
                if stage.index in in_image:
                    found = self._download(dockerfile, stage, instruction)
                found = found or from_plain_files(dockerfile, instruction)
                if found is not None:
                    yield found

    def _download(
        self, dockerfile: Dockerfile, stage: Stage, instruction: Instruction
    ) -> Violation | None:
        for position, source in enumerate(sources(instruction)):
            if not is_url(source) or is_git(source):
                continue
            name = posixpath.basename(source.partition("?")[0].partition("#")[0])
            later = _later_run_naming(stage, instruction, name)
            if later is None and not (_installer(name) or _INSTALLER_SCRIPT.search(name)):
                continue  # a file used as downloaded (a static binary, say) is fine
            why = (
                f"the RUN at line {later.line} works on it, and what a later layer deletes or "
                "changes still ships in this one"
                if later is not None
                else "ADD does not unpack a download, so the file stays in this layer even "
                "when a later RUN unpacks or installs it"
            )
            line, column = word_position(
                dockerfile, instruction, source_index(instruction, position)
            )
            return Violation(
                instruction,
                f"ADD downloads {name or source}: {why}",
                line,
                column,
                "Download, use and delete it in one RUN (`RUN curl -fsSLo /tmp/f URL && "
                "tar -xf /tmp/f -C /opt && rm /tmp/f`), or ADD it with --checksum in a "
                "builder stage and COPY --from only what it unpacks to.",
                cause="installer-left",
            )
        return None

    def measure(
        self, violation: Violation, context: LintContext
    ) -> tuple[int | None, int | None] | None:
        """A download's bytes are in ADD's layer under whichever cause hides or keeps them."""
        report, layers = context.report, context.layers
        if violation.cause is None or report is None or layers is None:
            return None
        layer = layers.get(violation.instruction.line)
        if layer is None:
            return None, None
        total = sum(
            f.bytes for f in report.findings if f.layer == layer and f.cause in DOWNLOAD_CAUSES
        )
        return total, layer


def from_plain_files(dockerfile: Dockerfile, instruction: Instruction) -> Violation | None:
    """DL3020's case: an ADD with a local source that is no tar, where COPY does the same."""
    found = sources(instruction)
    plain = [position for position, source in enumerate(found) if _is_plain(source)]
    if not plain:
        return None
    first = found[plain[0]]
    if len(plain) == len(found):
        fix = f"Use COPY: `{_as_copy(instruction)}`"
    else:
        names = " ".join(found[position] for position in plain)
        fix = f"COPY {names} in a COPY of their own, and keep ADD for the archives."
    line, column = word_position(dockerfile, instruction, source_index(instruction, plain[0]))
    return Violation(
        instruction,
        f"ADD of {first}, a plain file or directory: COPY does the same without ADD's "
        "unpacking of anything that turns out to be a tar",
        line,
        column,
        fix,
    )


def _is_plain(source: str) -> bool:
    if source.startswith("<<"):
        return True  # a heredoc: a file written inline
    if not source or "$" in source:
        return False  # a variable without a value: what it will name is not known
    return not (is_url(source) or is_git(source) or may_unpack(source))


def _later_run_naming(stage: Stage, instruction: Instruction, name: str) -> Instruction | None:
    """The first RUN after ``instruction`` in its stage whose script names the file."""
    if not name:
        return None
    pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
    after = False
    for candidate in stage.instructions:
        if candidate is instruction:
            after = True
        elif after and candidate.keyword == "RUN" and pattern.search(candidate.script):
            return candidate
    return None


def _as_copy(instruction: Instruction) -> str:
    first = instruction.original.split("\n", 1)[0]
    return "COPY" + first[len(instruction.keyword) :] if first else "COPY ..."
