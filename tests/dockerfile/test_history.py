"""History entries read back as instructions, and tied to the Dockerfile lines that made them:
hand-written created_by strings in each builder's format, then the real corpus images."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from bloatscope.dockerfile.history import (
    BASE_IMAGE,
    HistoryFormat,
    MatchKind,
    map_history,
    reconstruct,
)
from bloatscope.dockerfile.history_compare import Scope, compare
from bloatscope.dockerfile.parser import parse_file, parse_text
from bloatscope.model.dockerfile import Dockerfile, Heredoc, Instruction, Stage
from bloatscope.model.image import Image, ImageConfig, Platform
from bloatscope.model.layer import HistoryEntry
from bloatscope.reader.image_reader import read_image

BUILDKIT = "buildkit.dockerfile.v0"
DIGEST = "3b1e5a1f00c9d6a8e0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d"


def entry(created_by: str, comment: str = "", empty: bool = False) -> HistoryEntry:
    return HistoryEntry(None, created_by, "", comment, empty, None)


# ---------------------------------------------------------------- reconstruct: classic builder


def test_classic_metadata_step_after_nop_marker() -> None:
    step = reconstruct(entry('/bin/sh -c #(nop)  CMD ["python"]'))
    assert (step.keyword, step.text, step.format) == ("CMD", 'CMD ["python"]', "classic")


def test_classic_copy_records_a_content_digest_and_the_destination() -> None:
    step = reconstruct(entry(f"/bin/sh -c #(nop) COPY file:{DIGEST} in /app/ "))
    assert step.text == f"COPY file:{DIGEST} /app/"
    assert step.sources == (f"file:{DIGEST}",)
    assert step.destination == "/app/"
    assert step.sources_are_digests


def test_classic_add_of_a_directory() -> None:
    step = reconstruct(entry(f"/bin/sh -c #(nop) ADD dir:{DIGEST} in / "))
    assert (step.keyword, step.destination, step.sources) == ("ADD", "/", (f"dir:{DIGEST}",))


def test_classic_copy_chown_written_against_the_digest() -> None:
    # moby writes "--chown=%s" straight before the digest, with no space
    step = reconstruct(entry(f"/bin/sh -c #(nop) COPY --chown=1000:1000file:{DIGEST} in /x "))
    assert step.flags == ("--chown=1000:1000",)
    assert step.text == f"COPY --chown=1000:1000 file:{DIGEST} /x"


def test_classic_run_is_the_shell_command() -> None:
    step = reconstruct(entry("/bin/sh -c apt-get update && apt-get install -y curl"))
    assert step.keyword == "RUN"
    assert step.text == "RUN apt-get update && apt-get install -y curl"
    assert step.shell == ("/bin/sh", "-c")


def test_classic_run_build_args_prefix() -> None:
    step = reconstruct(entry("|2 ARG1=a ARG2=b /bin/sh -c make all"))
    assert step.build_args == (("ARG1", "a"), ("ARG2", "b"))
    assert step.text == "RUN make all"


def test_build_arg_value_with_spaces_ends_where_the_shell_starts() -> None:
    step = reconstruct(entry("|2 A=one two B=x y /bin/sh -c echo $A"))
    assert step.build_args == (("A", "one two"), ("B", "x y"))
    assert step.body == "echo $A"


def test_classic_exec_form_run_with_build_args_has_no_shell() -> None:
    step = reconstruct(entry("|1 V=3 python -m pip install x"))
    assert (step.keyword, step.shell, step.body) == ("RUN", (), "python -m pip install x")


def test_custom_shell_prefix_is_recognized() -> None:
    step = reconstruct(entry("/bin/bash -o pipefail -c curl -s x | sh"))
    assert step.shell == ("/bin/bash", "-o", "pipefail", "-c")
    assert step.text == "RUN curl -s x | sh"
    nop = reconstruct(entry("/bin/bash -euo pipefail -c #(nop)  USER app"))
    assert (nop.keyword, nop.text) == ("USER", "USER app")


def test_windows_cmd_shell() -> None:
    step = reconstruct(entry("cmd /S /C powershell -Command Install-Thing"))
    assert (step.keyword, step.body) == ("RUN", "powershell -Command Install-Thing")


def test_classic_expose_map_form() -> None:
    assert reconstruct(entry("/bin/sh -c #(nop)  EXPOSE map[80/tcp:{}]")).text == "EXPOSE 80/tcp"


# ---------------------------------------------------------------------- reconstruct: BuildKit


def test_buildkit_run_with_shell_and_marker() -> None:
    step = reconstruct(entry("RUN /bin/sh -c apt-get update # buildkit", BUILDKIT))
    assert (step.keyword, step.text, step.format) == ("RUN", "RUN apt-get update", "buildkit")


def test_buildkit_run_with_build_args() -> None:
    step = reconstruct(entry("RUN |1 X=1 /bin/sh -c echo $X # buildkit", BUILDKIT))
    assert step.build_args == (("X", "1"),)
    assert step.text == "RUN echo $X"


def test_buildkit_exec_form_run_has_no_shell() -> None:
    step = reconstruct(entry("RUN a b # buildkit", BUILDKIT))
    assert (step.text, step.shell) == ("RUN a b", ())


def test_buildkit_lone_heredoc_is_recorded_as_its_content() -> None:
    step = reconstruct(entry("RUN /bin/sh -c set -e\necho hi\n # buildkit", BUILDKIT))
    assert step.text == "RUN <<EOF\nset -e\necho hi\nEOF"


def test_buildkit_heredoc_fed_to_a_command() -> None:
    step = reconstruct(entry("RUN /bin/sh -c python3 <<EOF\nprint(1)\nEOF # buildkit", BUILDKIT))
    assert step.text == "RUN python3 <<EOF\nprint(1)\nEOF"


def test_buildkit_copy_keeps_sources_and_flags() -> None:
    step = reconstruct(entry("COPY --chown=1:1 a b /app/ # buildkit", BUILDKIT))
    assert step.flags == ("--chown=1:1",)
    assert (step.sources, step.destination) == (("a", "b"), "/app/")
    assert not step.sources_are_digests


@pytest.mark.parametrize(
    ("created_by", "text"),
    [
        ("ENV A=b C=d", "ENV A=b C=d"),
        ("WORKDIR /app", "WORKDIR /app"),
        ("ARG X=1", "ARG X=1"),
        ("USER app", "USER app"),
        ('CMD ["python" "app.py"]', 'CMD ["python", "app.py"]'),  # Go's %q of a list
        ('ENTRYPOINT ["/bin/sh" "-c" "go \\"x\\""]', 'ENTRYPOINT ["/bin/sh", "-c", "go \\"x\\""]'),
        ("EXPOSE [80/tcp 443/tcp]", "EXPOSE 80/tcp 443/tcp"),
        ("SHELL [/bin/bash -o pipefail -c]", 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]'),
        ("VOLUME [/data]", 'VOLUME ["/data"]'),
    ],
)  # fmt: skip
def test_buildkit_metadata_steps(created_by: str, text: str) -> None:
    step = reconstruct(entry(created_by, BUILDKIT))
    assert (step.text, step.format) == (text, HistoryFormat.BUILDKIT)


# -------------------------------------------------------- reconstruct: buildah, kaniko, others


def test_buildah_run_keeps_flags_after_the_shell() -> None:
    step = reconstruct(entry("/bin/sh -c --mount=type=cache,target=/root/.cache pip install x"))
    assert step.flags == ("--mount=type=cache,target=/root/.cache",)
    assert step.text == "RUN --mount=type=cache,target=/root/.cache pip install x"
    assert step.body == "pip install x"


def test_buildah_heredoc_without_closing_word() -> None:
    step = reconstruct(entry("/bin/sh -c <<EOF\nset -e\necho hi"))
    assert step.text == "RUN <<EOF\nset -e\necho hi\nEOF"


def test_buildah_exec_form_run_as_written() -> None:
    step = reconstruct(entry('/bin/sh -c ["python", "-m", "x"]'))
    assert (step.text, step.body) == ('RUN ["python", "-m", "x"]', "python -m x")


def test_buildah_metadata_as_written() -> None:
    step = reconstruct(entry("/bin/sh -c #(nop) ENV PATH=/opt/venv/bin:$PATH"))
    assert (step.keyword, step.body) == ("ENV", "PATH=/opt/venv/bin:$PATH")
    relative = reconstruct(entry(f"/bin/sh -c #(nop) COPY dir:{DIGEST} in ./app/ "))
    assert relative.destination == "./app/"


def test_kaniko_plain_instruction() -> None:
    step = reconstruct(entry("COPY --from=builder /opt/venv /opt/venv"))
    assert step.format == HistoryFormat.PLAIN
    assert (step.flags, step.sources, step.destination) == (
        ("--from=builder",),
        ("/opt/venv",),
        "/opt/venv",
    )
    assert reconstruct(entry("RUN apt-get update")).body == "apt-get update"


@pytest.mark.parametrize(
    "created_by",
    [
        "# debian.sh --arch 'amd64' out/ 'bookworm' '@1700438400'",
        "bash",
        "",
        "jib-maven-plugin:3.4",
    ],
)
def test_unknown_formats_are_kept_as_is(created_by: str) -> None:
    step = reconstruct(entry(created_by))
    assert (step.keyword, step.text, step.format) == ("", created_by, HistoryFormat.UNKNOWN)


# --------------------------------------------------------------------------- map_history


def instruction(
    line: int,
    keyword: str,
    *arguments: str,
    original: str | None = None,
    flags: Sequence[str] = (),
    exec_form: bool = False,
    heredocs: Sequence[Heredoc] = (),
    expanded: Sequence[str] = (),
    stage: int = 0,
) -> Instruction:
    if original is None:
        written = json.dumps(list(arguments)) if exec_form else " ".join(arguments)
        original = " ".join([keyword, *flags, written])
    return Instruction(
        keyword, tuple(flags), arguments, original, line, line, 1, stage, exec_form,
        tuple(heredocs), tuple(expanded),
    )  # fmt: skip


def dockerfile(*stages: Sequence[Instruction]) -> Dockerfile:
    built: list[Stage] = []
    for index, instructions in enumerate(stages):
        source = instructions[0]
        base = source.arguments[0]
        earlier = [s for s in built if s.name == base]
        name = source.arguments[2] if len(source.arguments) > 2 else None
        built.append(
            Stage(index, name, base, earlier[0].index if earlier else None, None,
                  tuple(instructions))
        )  # fmt: skip
    return Dockerfile("Dockerfile", "", {}, (), tuple(built))


def image(*history: tuple[str, bool] | str, comment: str = "") -> Image:
    """History entries oldest first; (created_by, True) for an entry that made no layer."""
    entries, layer = [], 0
    for item in history:
        created_by, empty = (item, False) if isinstance(item, str) else item
        entries.append(HistoryEntry(None, created_by, "", comment, empty, None if empty else layer))
        layer += 0 if empty else 1
    return Image(
        "test", "docker-archive", "sha256:0", (), Platform("linux", "amd64"), None,
        ImageConfig(), tuple(entries), (),
    )  # fmt: skip


BASE_HISTORY = (
    f"/bin/sh -c #(nop) ADD file:{DIGEST} in / ",
    ('/bin/sh -c #(nop)  CMD ["bash"]', True),
)


def test_classic_history_maps_each_instruction_from_the_end() -> None:
    from_line = instruction(1, "FROM", "debian")
    run = instruction(2, "RUN", "apt-get update && apt-get install -y curl")
    workdir = instruction(3, "WORKDIR", "/app")
    copy = instruction(4, "COPY", "requirements.txt", "./requirements.txt")
    cmd = instruction(5, "CMD", "python", "app.py", exec_form=True)
    built = image(
        *BASE_HISTORY,
        "/bin/sh -c apt-get update && apt-get install -y curl",
        ("/bin/sh -c #(nop) WORKDIR /app", True),
        f"/bin/sh -c #(nop) COPY file:{DIGEST} in ./requirements.txt ",
        ('/bin/sh -c #(nop)  CMD ["python" "app.py"]', True),
    )
    mapped = map_history(built, dockerfile([from_line, run, workdir, copy, cmd]))
    assert mapped.complete and mapped.problem is None
    assert [m.instruction for m in mapped.entries] == [None, None, run, workdir, copy, cmd]
    assert [m.kind for m in mapped.entries[2:]] == ["exact", "exact", "destination", "exact"]
    assert mapped.entries[0].reason == BASE_IMAGE
    assert mapped.layers_by_line() == {2: 1, 4: 2}
    assert mapped.layer_of(copy) == 2
    assert mapped.layer_of(cmd) is None  # it made an entry, but no layer
    cmd_match = mapped.match_of(cmd)
    assert cmd_match is not None and cmd_match.history_index == 5
    assert mapped.instruction_of_layer(1) == run
    assert mapped.instruction_of_layer(0) is None
    assert mapped.instruction_of_entry(3) == workdir


def test_buildkit_history_with_expanded_variables_and_resolved_paths() -> None:
    lines = [
        instruction(1, "FROM", "python"),
        instruction(2, "ARG", "VERSION=1.0"),
        instruction(3, "ENV", "PATH=/opt/venv/bin:$PATH"),
        instruction(4, "WORKDIR", "src"),  # relative to the base image's working directory
        instruction(5, "COPY", ".", "."),
        instruction(6, "RUN", "pip install .", flags=["--mount=type=cache,target=/root/.cache"]),
        instruction(7, "CMD", "python -m app"),  # shell form: recorded with its shell
    ]
    built = image(
        *BASE_HISTORY,
        ("ARG VERSION=2.0", True),  # given with --build-arg
        ("ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin", True),
        "WORKDIR /usr/src/src",
        "COPY . . # buildkit",
        "RUN |1 VERSION=2.0 /bin/sh -c pip install . # buildkit",
        ('CMD ["/bin/sh" "-c" "python -m app"]', True),
        comment=BUILDKIT,
    )
    mapped = map_history(built, dockerfile(lines))
    assert mapped.complete
    assert [m.instruction.line if m.instruction else None for m in mapped.entries] == [
        None, None, 2, 3, 4, 5, 6, 7,
    ]  # fmt: skip
    assert [m.kind for m in mapped.instructions] == [
        MatchKind.REWRITTEN,  # ARG: the value given at build time
        MatchKind.REWRITTEN,  # ENV: $PATH expanded
        MatchKind.REWRITTEN,  # WORKDIR: resolved
        MatchKind.EXACT,  # COPY: BuildKit keeps the sources
        MatchKind.EXACT,
        MatchKind.REWRITTEN,  # CMD: the shell in front
    ]
    assert mapped.layers_by_line() == {4: 1, 5: 2, 6: 3}


def test_buildkit_copy_with_other_sources_is_not_a_match() -> None:
    lines = [instruction(1, "FROM", "x"), instruction(2, "COPY", "app/", "/app/")]
    mapped = map_history(image(*BASE_HISTORY, "COPY src/ /app/ # buildkit"), dockerfile(lines))
    assert not mapped.complete
    assert all(m.instruction is None for m in mapped.entries)
    assert mapped.problem is not None and mapped.problem.startswith("line 2: COPY")


def test_onbuild_makes_no_buildkit_entry_and_is_passed_over() -> None:
    lines = [
        instruction(1, "FROM", "x"),
        instruction(2, "RUN", "make"),
        instruction(3, "ONBUILD", "RUN", "echo later"),
        instruction(4, "USER", "app"),
    ]
    built = image(*BASE_HISTORY, "RUN /bin/sh -c make # buildkit", ("USER app", True))
    mapped = map_history(built, dockerfile(lines))
    assert mapped.complete
    onbuild = mapped.instructions[1]
    assert onbuild.history_index is None and "no history entry" in onbuild.reason
    assert mapped.layers_by_line() == {2: 1}


def test_buildah_arg_records_only_names() -> None:
    lines = [
        instruction(1, "FROM", "x"),
        instruction(2, "ARG", "V=1"),
        instruction(3, "RUN", "make"),
    ]
    built = image(
        *BASE_HISTORY,
        ("/bin/sh -c #(nop) ARG ", True),
        "|1 V=1 /bin/sh -c make",
    )
    mapped = map_history(built, dockerfile(lines))
    assert [m.kind for m in mapped.instructions] == [MatchKind.KEYWORD, MatchKind.EXACT]


def test_kaniko_without_metadata_entries() -> None:
    lines = [
        instruction(1, "FROM", "x"),
        instruction(2, "ENV", "A=1"),
        instruction(3, "COPY", "app", "/app"),
        instruction(4, "EXPOSE", "8080"),
    ]
    mapped = map_history(image(*BASE_HISTORY, "COPY app /app"), dockerfile(lines))
    assert mapped.problem is None
    assert not mapped.complete  # two instructions have no entry
    assert mapped.layers_by_line() == {3: 1}
    assert [m.history_index for m in mapped.instructions] == [None, 2, None]
    assert [m.instruction for m in mapped.entries[:2]] == [None, None]


@pytest.mark.parametrize(
    "recorded",
    [
        "RUN /bin/sh -c set -e\napt-get update\n # buildkit",  # BuildKit: the content
        "/bin/sh -c <<EOF\nset -e\napt-get update",  # buildah: marker, content, no end
    ],
)
def test_heredoc_run_matches(recorded: str) -> None:
    heredoc = Heredoc("EOF", "set -e\napt-get update\n", expands=True)
    run = instruction(
        2, "RUN", "<<EOF", original="RUN <<EOF\nset -e\napt-get update\nEOF", heredocs=[heredoc]
    )
    mapped = map_history(
        image(*BASE_HISTORY, recorded), dockerfile([instruction(1, "FROM", "x"), run])
    )
    assert mapped.entries[2].instruction == run
    assert mapped.entries[2].kind == MatchKind.EXACT


def test_heredoc_fed_to_a_command_matches() -> None:
    heredoc = Heredoc("PY", "print(1)\n", expands=True)
    run = instruction(2, "RUN", "python3 <<PY", heredocs=[heredoc])
    recorded = "RUN /bin/sh -c python3 <<PY\nprint(1)\nPY # buildkit"
    mapped = map_history(
        image(*BASE_HISTORY, recorded), dockerfile([instruction(1, "FROM", "x"), run])
    )
    assert mapped.entries[2].instruction == run


def test_exec_form_run_under_the_classic_builder() -> None:
    run = instruction(2, "RUN", "python", "-m", "pip", "install", "x", exec_form=True)
    mapped = map_history(
        image(*BASE_HISTORY, "python -m pip install x"),
        dockerfile([instruction(1, "FROM", "x"), run]),
    )
    assert mapped.entries[2].instruction == run and mapped.complete


def test_continuation_lines_match_the_joined_command() -> None:
    original = "RUN apt-get update \\\n    # fetch curl\n    && apt-get install -y curl"
    run = instruction(2, "RUN", "apt-get update     && apt-get install -y curl", original=original)
    recorded = "/bin/sh -c apt-get update     && apt-get install -y curl"
    mapped = map_history(
        image(*BASE_HISTORY, recorded), dockerfile([instruction(1, "FROM", "x"), run])
    )
    assert mapped.layers_by_line() == {2: 1}


def test_only_a_cmd_in_common_is_no_match() -> None:
    """Another Dockerfile ending in the same CMD: the CMD alone proves nothing."""
    lines = [
        instruction(1, "FROM", "x"),
        instruction(2, "COPY", "app/", "./app/"),
        instruction(3, "CMD", "python", "app.py", exec_form=True),
    ]
    built = image(
        *BASE_HISTORY,
        "/bin/sh -c echo done > /status",
        ('/bin/sh -c #(nop)  CMD ["python" "app.py"]', True),
    )
    mapped = map_history(built, dockerfile(lines))
    assert all(m.instruction is None for m in mapped.entries)
    assert all(m.history_index is None for m in mapped.instructions)
    assert mapped.layers_by_line() == {}
    assert mapped.problem is not None and "line 2: COPY" in mapped.problem


def test_an_edited_line_keeps_the_matches_after_it() -> None:
    """The Dockerfile changed since the build: the lines after the change still match."""
    lines = [
        instruction(1, "FROM", "x"),
        instruction(2, "RUN", "apt-get install -y curl wget"),  # was "curl" at build time
        instruction(3, "RUN", "make install"),
        instruction(4, "RUN", "rm -rf /tmp/build"),
    ]
    built = image(
        *BASE_HISTORY,
        "/bin/sh -c apt-get install -y curl",
        "/bin/sh -c make install",
        "/bin/sh -c rm -rf /tmp/build",
    )
    mapped = map_history(built, dockerfile(lines))
    assert not mapped.complete
    assert mapped.layers_by_line() == {3: 2, 4: 3}
    assert mapped.entries[2].instruction is None
    assert "stops matching" in mapped.entries[2].reason
    assert mapped.entries[0].reason != BASE_IMAGE  # it cannot tell base from own steps now
    assert mapped.problem is not None and mapped.problem.startswith("line 2: RUN")


def test_buildah_comment_shows_missing_leading_instructions() -> None:
    """buildah writes "FROM <base>" on a build's first step and "FROM <id>" on later ones."""
    lines = [instruction(1, "FROM", "x"), instruction(2, "RUN", "make")]
    history = (
        HistoryEntry(None, f"/bin/sh -c #(nop) ADD file:{DIGEST} in / ", "", "", False, 0),
        HistoryEntry(None, "/bin/sh -c configure", "", "FROM x", False, 1),
        HistoryEntry(None, "/bin/sh -c make", "", "FROM 0cc08a66c9d7", False, 2),
    )
    built = image()
    mapped = map_history(
        Image(built.reference, built.source_format, built.image_id, (), built.platform, None,
              built.config, history, ()),
        dockerfile(lines),
    )  # fmt: skip
    assert mapped.layers_by_line() == {2: 2}
    assert not mapped.complete
    assert mapped.problem is not None and "0cc08a66c9d7" in mapped.problem
    assert mapped.entries[1].reason != BASE_IMAGE


def test_multi_stage_maps_the_final_stage_and_the_stages_it_is_built_on() -> None:
    base = [instruction(1, "FROM", "python", "AS", "base"), instruction(2, "RUN", "pip install a")]
    builder = [
        instruction(3, "FROM", "python", "AS", "builder", stage=1),
        instruction(4, "RUN", "make wheel", stage=1),
    ]
    final = [
        instruction(5, "FROM", "base", stage=2),
        instruction(6, "COPY", "/w", "/w", flags=["--from=builder"], stage=2),
        instruction(7, "RUN", "pip install /w/*.whl", stage=2),
    ]
    built = image(
        *BASE_HISTORY,
        "/bin/sh -c pip install a",
        f"/bin/sh -c #(nop) COPY dir:{DIGEST} in /w ",
        "/bin/sh -c pip install /w/*.whl",
    )
    mapped = map_history(built, dockerfile(base, builder, final))
    assert mapped.complete
    assert mapped.layers_by_line() == {2: 1, 6: 2, 7: 3}
    assert [m.instruction.line for m in mapped.instructions] == [2, 6, 7]  # not the builder's


def test_image_without_history() -> None:
    lines = [instruction(1, "FROM", "x"), instruction(2, "RUN", "make")]
    mapped = map_history(image(), dockerfile(lines))
    assert mapped.entries == ()
    assert not mapped.complete
    assert mapped.problem is not None and "no older entry" in mapped.problem


def test_buildkit_history_of_a_parsed_dockerfile() -> None:
    """What BuildKit writes for each kind of line (dockerfile2llb's commitToHistory), against
    the project's parser's reading of the same file."""
    parsed = parse_text(
        "FROM python:3.11\n"
        "ARG V=1\n"
        'ENV A=$V B="two words"\n'
        "ENV OLD legacy value\n"
        'LABEL a=b "c d"="e f"\n'
        "WORKDIR src\n"
        "RUN <<EOF\nset -e\necho hi\nEOF\n"
        "RUN python3 <<PY\nprint(1)\nPY\n"
        "COPY <<EOF /x\nhello\nEOF\n"
        "HEALTHCHECK --interval=5s CMD curl -f http://localhost/\n"
        "EXPOSE 80 443/udp\n"
        "ONBUILD RUN echo later\n"
    )
    built = image(
        *BASE_HISTORY,
        ("ARG V=1", True),
        ("ENV A=1 B=two words", True),
        ("ENV OLD=legacy value", True),
        ("LABEL a=b c d=e f", True),
        "WORKDIR /src",
        "RUN |1 V=1 /bin/sh -c set -e\necho hi\n # buildkit",
        "RUN |1 V=1 /bin/sh -c python3 <<PY\nprint(1)\nPY # buildkit",
        "COPY <<EOF /x # buildkit",
        (
            "HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:5s Timeout:0s "
            "StartPeriod:0s StartInterval:0s Retries:0}",
            True,
        ),
        ("EXPOSE [80/tcp 443/udp]", True),
        comment=BUILDKIT,
    )
    mapped = map_history(built, parsed)
    assert mapped.complete and mapped.problem is None
    by_line = {m.instruction.line: (m.history_index, m.kind) for m in mapped.instructions}
    assert by_line == {
        2: (2, MatchKind.EXACT),
        3: (3, MatchKind.REWRITTEN),  # $V expanded
        4: (4, MatchKind.EXACT),  # the legacy form, recorded with "="
        5: (5, MatchKind.EXACT),
        6: (6, MatchKind.REWRITTEN),  # resolved against "/"
        7: (7, MatchKind.EXACT),
        11: (8, MatchKind.EXACT),
        14: (9, MatchKind.EXACT),
        17: (10, MatchKind.REWRITTEN),
        18: (11, MatchKind.EXACT),
        19: (None, None),  # ONBUILD: no entry
    }
    assert mapped.layers_by_line() == {6: 1, 7: 2, 11: 3, 14: 4}


# ------------------------------------------------------- the corpus images and their Dockerfiles

CORPUS_DOCKERFILES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "images"


def _corpus_image(name: str) -> Image:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "image-corpus"
    path = Path(os.environ.get("CORPUS_DIR") or default) / f"{name}.docker.tar"
    if not path.exists():
        pytest.skip(f"{path} is not built (../shared/corpus/build.sh {name})")
    return read_image(str(path)).image


def _corpus_dockerfile(name: str) -> Dockerfile:
    path = CORPUS_DOCKERFILES / name / "Dockerfile"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return parse_file(str(path))


@pytest.fixture(scope="module")
def corpus_images() -> dict[str, Image]:
    """Each corpus image read once for the module, on first use."""
    return {}


def corpus(images: dict[str, Image], name: str) -> Image:
    if name not in images:
        images[name] = _corpus_image(name)
    return images[name]


def paths(built: Image, layer: int) -> set[str]:
    return {file.path for file in built.layers[layer].entries}


@pytest.mark.corpus
def test_naive_bert_each_line_to_its_layer(corpus_images: dict[str, Image]) -> None:
    built = corpus(corpus_images, "naive-bert")
    mapped = map_history(built, _corpus_dockerfile("naive-bert"))
    assert mapped.complete and mapped.problem is None
    assert mapped.layers_by_line() == {4: 2, 6: 3, 7: 4, 8: 5, 9: 6, 10: 7, 11: 8, 12: 9, 13: 10}
    assert [m.instruction.line if m.instruction else None for m in mapped.entries] == [
        None, None, None, None, None, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]  # fmt: skip
    assert all(m.reason == BASE_IMAGE for m in mapped.entries[:5])
    # the layer of `RUN pip install -r requirements.txt` is the one whose history says so
    pip = next(m for m in mapped.instructions if m.instruction.line == 9)
    assert pip.instruction.arguments == ("pip install -r requirements.txt",)
    assert pip.layer_index is not None
    assert built.layers[pip.layer_index].created_by == "/bin/sh -c pip install -r requirements.txt"
    assert any("-packages/transformers/" in p for p in paths(built, pip.layer_index))
    assert "usr/local/bin/flask" in paths(built, pip.layer_index)
    # independent evidence: what each COPY's layer holds
    assert "src/app/predictor.py" in paths(built, mapped.layers_by_line()[12])  # COPY . /src/
    assert "app/requirements.txt" in paths(built, mapped.layers_by_line()[8])  # ./requirements.txt
    assert "app/sample_data/sample_text.txt" in paths(built, mapped.layers_by_line()[11])
    assert [m.kind for m in mapped.instructions if m.instruction.keyword == "COPY"] == [
        MatchKind.DESTINATION
    ] * 5
    # WORKDIR and CMD made entries, not layers
    workdir, cmd = mapped.instructions[1], mapped.instructions[-1]
    assert (workdir.instruction.keyword, workdir.history_index, workdir.layer_index) == (
        "WORKDIR", 6, None,
    )  # fmt: skip
    assert (cmd.instruction.keyword, cmd.history_index, cmd.layer_index) == ("CMD", 15, None)


@pytest.mark.corpus
def test_slim_bert_only_the_final_stage_maps(corpus_images: dict[str, Image]) -> None:
    built = corpus(corpus_images, "slim-bert")
    mapped = map_history(built, _corpus_dockerfile("slim-bert"))
    assert mapped.complete and mapped.problem is None
    assert [m.instruction.line for m in mapped.instructions] == [10, 11, 12, 13, 14, 15]
    assert all(m.instruction.stage == 1 for m in mapped.instructions)
    assert mapped.layers_by_line() == {10: 2, 13: 3, 14: 4}
    assert [m.history_index for m in mapped.instructions] == [5, 6, 7, 8, 9, 10]
    assert any(p.startswith("opt/venv/lib/") for p in paths(built, 2))  # COPY --from=builder
    assert "app/app/predictor.py" in paths(built, 3)
    assert mapped.instructions[1].kind == MatchKind.EXACT  # buildah keeps ENV as written


@pytest.mark.corpus
def test_waste_zoo_every_run_its_layer(corpus_images: dict[str, Image]) -> None:
    built = corpus(corpus_images, "waste-zoo")
    mapped = map_history(built, _corpus_dockerfile("waste-zoo"))
    assert mapped.complete
    assert mapped.layers_by_line() == {
        4: 2, 6: 3, 7: 4, 9: 5, 10: 6, 12: 7, 13: 8, 15: 9, 17: 10, 19: 11,
    }  # fmt: skip
    assert {m.kind for m in mapped.instructions} == {MatchKind.EXACT}
    # the two identical RUN lines go to their own layers, in order
    assert paths(built, 3) >= {"opt/data.bin"} and paths(built, 4) >= {"opt/data.bin"}
    assert "opt/blob-b" in paths(built, 11)  # RUN chmod 600 /opt/blob-b


@pytest.mark.corpus
def test_python_full_metadata_entries_map_too(corpus_images: dict[str, Image]) -> None:
    built = corpus(corpus_images, "python-full")
    mapped = map_history(built, _corpus_dockerfile("python-full"))
    assert mapped.complete
    assert [(m.instruction.line, m.history_index, m.layer_index) for m in mapped.instructions] == [
        (3, 2, None),
        (4, 3, 1),
        (9, 4, None),
    ]
    assert [m.instruction for m in mapped.entries[:2]] == [None, None]


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("image_name", "dockerfile_name"),
    [("naive-bert", "slim-bert"), ("slim-bert", "naive-bert"), ("waste-zoo", "python-slim")],
)
def test_another_dockerfile_gets_no_matches(
    corpus_images: dict[str, Image], image_name: str, dockerfile_name: str
) -> None:
    """Same CMD, WORKDIR and COPY destinations (the two berts), or the base image's own
    Dockerfile (python-slim under waste-zoo): nothing is matched."""
    built = corpus(corpus_images, image_name)
    mapped = map_history(built, _corpus_dockerfile(dockerfile_name))
    assert not mapped.complete and mapped.problem is not None
    assert all(m.instruction is None for m in mapped.entries)
    assert all(m.history_index is None for m in mapped.instructions)
    assert mapped.layers_by_line() == {}


def test_variables_against_a_long_recorded_value_stay_linear() -> None:
    """Each $VAR stands for any text: a backtracking matcher would take hours here."""
    written = "A=" + " x ".join(f"$V{i}" for i in range(40)) + " z"
    env = instruction(2, "ENV", "A", written.removeprefix("A="), original=f"ENV {written}")
    recorded = reconstruct(entry("ENV A=" + "x " * 50_000 + "y", BUILDKIT))
    assert compare(env, recorded, Scope(None)) is None
    matching = reconstruct(entry("ENV A=" + "x " * 50_000 + "z", BUILDKIT))
    assert compare(env, matching, Scope(None)) == MatchKind.REWRITTEN


def test_heredoc_closing_word_the_script_does_not_contain() -> None:
    step = reconstruct(entry("RUN /bin/sh -c echo EOF EOF_\ntrue\n # buildkit", BUILDKIT))
    assert step.text == "RUN <<EOF__\necho EOF EOF_\ntrue\nEOF__"
