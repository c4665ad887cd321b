"""BS121 (chmod/chown after COPY), BS122 (rm of what an earlier layer added) and BS141 (build
tools in the image): cases that break them, look-alikes that do not, and with a real image
the bytes each violation is priced at."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.dockerfile.base import LintContext, Rule
from bloatscope.dockerfile.lint import lint as lint_with_image
from bloatscope.dockerfile.parser import parse_text as parse
from bloatscope.dockerfile.rules import package_managers as managers
from bloatscope.dockerfile.rules.run_hygiene import (
    BuildToolsInFinalStage,
    ChmodAfterCopy,
    DeletesEarlierLayer,
)
from synth import Image, Layer, write_skopeo_archive


def case(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def spots(text: str, rule: type[Rule]) -> list[tuple[int, str]]:
    """Each violation's line, and the text from its column on (its command)."""
    lines = text.split("\n")
    found = rule().check(LintContext(parse(text), None))
    return [(v.line, lines[v.line - 1][v.column - 1 :]) for v in found]


def starting(found: list[tuple[int, str]], expected: list[tuple[int, str]]) -> bool:
    """Whether the violations are on the expected lines, at text that starts as expected."""
    return len(found) == len(expected) and all(
        line == want_line and at.startswith(want)
        for (line, at), (want_line, want) in zip(found, expected, strict=True)
    )


_PY = "FROM python:3.12-slim"

CHMOD = [
    (
        case(
            _PY, "COPY entrypoint.sh /usr/local/bin/", "RUN chmod +x /usr/local/bin/entrypoint.sh"
        ),
        [(3, "chmod +x /usr/local/bin/entrypoint.sh")],
    ),
    (
        case(_PY, "COPY . /app", "RUN pip install x && chown -R app:app /app"),
        [(3, "chown -R app:app /app")],
    ),
    (case(_PY, "WORKDIR /app", "COPY . .", "RUN chmod 755 run.sh"), [(4, "chmod 755 run.sh")]),
    (case(_PY, "COPY app.py /srv/app/app.py", "RUN chgrp -R web /srv"), [(3, "chgrp -R web /srv")]),
    (case(_PY, "COPY run.sh /opt/", "RUN chmod -x /opt/*.sh"), [(3, "chmod -x /opt/*.sh")]),
    (
        case(_PY, "COPY --chown=app . /app", "RUN cd /app && \\", "    chmod -R g+w data"),
        [(4, "chmod -R g+w data")],
    ),
    # the stage the final one is built FROM is in the image
    (
        case(f"{_PY} AS base", "COPY . /app", "FROM base", "RUN chown -R app /app"),
        [(4, "chown -R app /app")],
    ),
]
CHMOD_CLEAN = [
    case(_PY, "COPY . /app", "RUN chmod +x /usr/local/bin/tool"),
    case(_PY, "COPY . /app", "RUN chmod 755 /app"),  # the directory's own mode: no bytes
    case(_PY, "RUN curl -o /usr/local/bin/x https://x/x && chmod +x /usr/local/bin/x"),
    case(_PY, "RUN chmod +x /app/run.sh", "COPY run.sh /app/run.sh"),
    case(_PY, "COPY . /app", "RUN echo chmod -R 777 /app"),
    case(_PY, "COPY rootfs/ /", "RUN chmod +x /usr/local/bin/x"),
    case(
        f"{_PY} AS build",
        "COPY . /src",
        "RUN chmod -R +x /src",
        _PY,
        "COPY --from=build /src/out /o",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CHMOD)
def test_chmod_after_copy(text: str, expected: list[tuple[int, str]]) -> None:
    assert starting(spots(text, ChmodAfterCopy), expected)


@pytest.mark.parametrize("text", CHMOD_CLEAN)
def test_chmod_of_what_no_copy_added(text: str) -> None:
    assert spots(text, ChmodAfterCopy) == []


def test_chmod_fix_sets_the_mode_on_the_copy() -> None:
    (chmod,) = ChmodAfterCopy().check(LintContext(parse(CHMOD[2][0]), None))
    assert chmod.cause == "metadata-only"
    assert "COPY --chmod=755" in chmod.fix and "line 3" in chmod.fix
    (chown,) = ChmodAfterCopy().check(LintContext(parse(CHMOD[1][0]), None))
    assert "COPY --chown=app:app" in chown.fix


DELETES = [
    (case(_PY, "COPY . /app", "RUN rm -rf /app/tests"), [(3, "rm -rf /app/tests")]),
    (
        case(
            _PY, "ADD https://x.org/y.tar.gz /tmp/", "RUN tar xzf /tmp/y.tar.gz && rm /tmp/y.tar.gz"
        ),
        [(3, "rm /tmp/y.tar.gz")],
    ),
    (
        case(_PY, "RUN curl -fsSLo /tmp/x.tgz https://x.org/x.tgz", "RUN rm -f /tmp/x.tgz"),
        [(3, "rm -f /tmp/x.tgz")],
    ),
    (
        case(
            _PY,
            "WORKDIR /tmp",
            "RUN wget https://x.org/pkg.deb",
            "RUN dpkg -i pkg.deb && rm pkg.deb",
        ),
        [(4, "rm pkg.deb")],
    ),
    (
        case(_PY, "RUN git clone --depth 1 https://g.com/a/b.git /src/b", "RUN rm -rf /src/b/.git"),
        [(3, "rm -rf /src/b/.git")],
    ),
    (case(_PY, "RUN apt-get update", "RUN rm -rf /var/lib/apt/lists/*"), [(3, "rm -rf /var/lib")]),
    (case(_PY, "RUN pip install x", "RUN rm -rf ~/.cache/pip"), [(3, "rm -rf ~/.cache/pip")]),
    (case(_PY, "RUN echo hi > /tmp/big.txt", "RUN find /tmp -name '*.txt' -delete"), [(3, "find")]),
    (
        case(_PY, "COPY a.whl b.whl /w/", "RUN pip install /w/*.whl && rm -rf /w"),
        [(3, "rm -rf /w")],
    ),
]
DELETES_CLEAN = [
    case(_PY, "RUN curl -fsSLo /tmp/x.tgz https://x.org/x.tgz && rm /tmp/x.tgz"),
    case(
        _PY,
        "RUN --mount=type=tmpfs,target=/tmp curl -o /tmp/x.tgz https://x",
        "RUN rm -f /tmp/x.tgz",
    ),
    case(_PY, "RUN rm -rf /usr/share/doc /usr/share/man"),  # the base image's: nothing we know of
    case(_PY, "COPY . /app", "RUN echo rm -rf /app # rm -rf /app"),
    case(_PY, "COPY app.py /usr/local/bin/", "RUN rm /usr/local/bin/pip3"),
    case(
        _PY,
        "RUN --mount=type=cache,target=/root/.cache/pip pip install x",
        "RUN rm -rf ~/.cache/pip",
    ),
    case(_PY, "RUN pip install --no-cache-dir x", "RUN rm -rf /root/.cache/pip"),
    case(
        f"{_PY} AS build", "COPY . /src", "RUN rm -rf /src/tests", _PY, "COPY --from=build /src /s"
    ),
]


@pytest.mark.parametrize(("text", "expected"), DELETES)
def test_rm_of_what_an_earlier_layer_added(text: str, expected: list[tuple[int, str]]) -> None:
    assert starting(spots(text, DeletesEarlierLayer), expected)


@pytest.mark.parametrize("text", DELETES_CLEAN)
def test_rm_in_the_same_layer_or_of_what_no_instruction_added(text: str) -> None:
    assert spots(text, DeletesEarlierLayer) == []


def test_what_is_deleted_once_is_not_deleted_again() -> None:
    text = case(_PY, "COPY a /a", "RUN rm -rf /a", "RUN rm -rf /a")
    assert starting(spots(text, DeletesEarlierLayer), [(3, "rm -rf /a")])


# --- paths with variables --------------------------------------------------------------------

VARIABLES = [
    # ENV and ARG values in effect replace $NAME and ${NAME}
    (
        case(_PY, "ENV APP_HOME=/srv/app", "COPY . /srv/app", "RUN rm -rf ${APP_HOME}/tmp"),
        [(4, "rm -rf ${APP_HOME}/tmp")],
    ),
    (
        case(_PY, "ARG WHEELS=/w", "COPY a.whl b.whl $WHEELS/", 'RUN rm -rf "$WHEELS"'),
        [(4, 'rm -rf "$WHEELS"')],
    ),
    # the rails example with BUNDLE_PATH set here: the bundle's cache is what it deletes
    (
        case(
            "FROM ruby:3.3",
            "ENV BUNDLE_PATH=/usr/local/bundle",
            "WORKDIR /rails",
            "COPY vendor/cache /usr/local/bundle/ruby/3.3.0/cache",
            'RUN rm -rf ~/.bundle/ "${BUNDLE_PATH}"/ruby/*/cache',
        ),
        [(5, "rm -rf ~/.bundle/")],
    ),
    # exported, or set by cd, in the same RUN
    (
        case(_PY, "COPY . /app", "RUN export D=/app/tests && rm -rf $D"),
        [(3, "rm -rf $D")],
    ),
    (
        case(_PY, "ENV APP=/app", "COPY . /app", "RUN cd $APP && rm -rf tests"),
        [(4, "rm -rf tests")],
    ),
    # a file written under a known directory whatever the loop variable is: deleting the
    # whole directory later reaches it
    (
        case(_PY, "RUN for i in 1 2; do echo x > /srv/f$i; done", "RUN rm -rf /srv"),
        [(3, "rm -rf /srv")],
    ),
]
VARIABLES_UNKNOWN = [
    # the base image sets BUNDLE_PATH (/usr/local/bundle): not /rails/$BUNDLE_PATH/...
    case(
        "FROM ruby:3.3",
        "WORKDIR /rails",
        "COPY Gemfile Gemfile.lock ./",
        'RUN bundle install && rm -rf "${BUNDLE_PATH}"/ruby/*/cache',
    ),
    case(_PY, "WORKDIR /app", "COPY . .", "RUN rm -rf $APP_HOME/tmp"),
    case(_PY, "COPY . /app", "RUN rm -rf /app/$UNSET"),  # which part of /app: not known
    case(_PY, "COPY . /app", "RUN for d in a b; do rm -rf /app/$d; done"),
    case(_PY, "COPY . /app", "RUN rm -rf /app/$(cat list)"),
    case(_PY, "ARG OUT", "COPY . /app", "RUN rm -rf $OUT"),  # an ARG with no value
    # written where an unknown variable points: not under the WORKDIR
    case(_PY, "WORKDIR /app", 'RUN curl -o "$DEST/x.tgz" https://x.org/x.tgz', "RUN rm -rf /app"),
    case(_PY, "WORKDIR /app", "RUN cd $BUILD && echo x > out.log", "RUN rm -rf /app"),
]


@pytest.mark.parametrize(("text", "expected"), VARIABLES)
def test_rm_paths_with_known_variables_are_expanded(
    text: str, expected: list[tuple[int, str]]
) -> None:
    assert starting(spots(text, DeletesEarlierLayer), expected)


@pytest.mark.parametrize("text", VARIABLES_UNKNOWN)
def test_rm_paths_with_unknown_variables_are_left_out(text: str) -> None:
    assert spots(text, DeletesEarlierLayer) == []


def test_expanded_rm_message_names_the_path_it_reaches() -> None:
    (found,) = DeletesEarlierLayer().check(LintContext(parse(VARIABLES[0][0]), None))
    assert "deletes /srv/app/tmp, part of what the COPY at line 3 added" in found.message


def test_chmod_paths_with_variables() -> None:
    known = case(_PY, "ENV APP=/app", "COPY run.sh /app/", "RUN chmod +x $APP/run.sh")
    assert starting(spots(known, ChmodAfterCopy), [(4, "chmod +x $APP/run.sh")])
    unknown = case(_PY, "WORKDIR /app", "COPY . .", "RUN chmod +x $APP_HOME/bin/run")
    assert spots(unknown, ChmodAfterCopy) == []


def test_a_cache_deleted_through_a_known_variable_is_cleaned() -> None:
    known = case(_PY, "ENV PIP_CACHE_DIR=/tmp/pip", "RUN pip install x && rm -rf $PIP_CACHE_DIR")
    assert spots(known, managers.PipCache) == []
    unknown = case(_PY, "RUN pip install x && rm -rf $CACHE")
    assert starting(spots(unknown, managers.PipCache), [(2, "pip install x")])


def test_rm_message_names_what_and_where() -> None:
    (found,) = DeletesEarlierLayer().check(LintContext(parse(DELETES[0][0]), None))
    assert found.cause == "deleted"
    assert "/app/tests" in found.message and "COPY at line 2" in found.message
    assert ".dockerignore" in found.fix
    (cache,) = DeletesEarlierLayer().check(LintContext(parse(DELETES[5][0]), None))
    assert "--mount=type=cache,target=/var/lib/apt/lists" in cache.fix and "line 2" in cache.fix


TOOLS = [
    (
        case(_PY, "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev"),
        [(2, "apt-get install")],
        "gcc, libpq-dev",
    ),
    (
        case("FROM alpine:3", "RUN apk add --no-cache build-base linux-headers"),
        [(2, "apk")],
        "build-base",
    ),
    (case("FROM fedora:40", "RUN dnf install -y gcc-c++ python3-devel make"), [(2, "dnf")], "make"),
    (
        case(_PY, "RUN apt-get install -y g++-12=12.2.0-14 git"),
        [(2, "apt-get")],
        "g++-12=12.2.0-14, git",
    ),
    # purged in a later RUN: still in this one's layer
    (case(_PY, "RUN apt-get install -y gcc", "RUN apt-get purge -y gcc"), [(2, "apt-get")], "gcc"),
    (
        case(f"{_PY} AS base", "RUN apt-get install -y cmake", "FROM base"),
        [(2, "apt-get")],
        "cmake",
    ),
]
TOOLS_CLEAN = [
    case(_PY, "RUN apt-get install -y --no-install-recommends libpq5 curl"),
    case(_PY, "RUN apt-get install -y gcc && pip install x && apt-get purge -y --auto-remove gcc"),
    case(
        "FROM alpine:3",
        "RUN apk add --virtual .deps gcc musl-dev && pip install x && apk del .deps",
    ),
    case("FROM alpine:3", "RUN apk add -t .deps gcc && make && apk del .deps"),
    case(
        f"{_PY} AS build", "RUN apt-get install -y build-essential", _PY, "COPY --from=build /o /o"
    ),
    case(_PY, "RUN echo apt-get install gcc && apt-get install -y $BUILD_DEPS"),
    case(_PY, "RUN apt-get remove -y gcc"),
]


@pytest.mark.parametrize(("text", "expected", "named"), TOOLS)
def test_build_tools_installed_into_the_image(
    text: str, expected: list[tuple[int, str]], named: str
) -> None:
    assert starting(spots(text, BuildToolsInFinalStage), expected)
    (violation,) = BuildToolsInFinalStage().check(LintContext(parse(text), None))
    assert named in violation.message


@pytest.mark.parametrize("text", TOOLS_CLEAN)
def test_build_tools_removed_in_the_same_run_or_kept_in_a_build_stage(text: str) -> None:
    assert spots(text, BuildToolsInFinalStage) == []


def test_build_tools_priced_as_debian_dev_packages_only_for_apt() -> None:
    (apt,) = BuildToolsInFinalStage().check(LintContext(parse(TOOLS[0][0]), None))
    assert (apt.cause, apt.group) == ("dev-packages", "dpkg")
    (apk,) = BuildToolsInFinalStage().check(LintContext(parse(TOOLS[1][0]), None))
    assert (apk.cause, apk.group) == (None, None)  # the analysis names Debian's tools only


_DOCKERFILE = case(
    "FROM base",
    "COPY . /app",
    "RUN chmod +x /app/run.sh /app/tool && rm -rf /app/tests && chmod 600 /app/data/secret",
)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> object:
    """An image built the way _DOCKERFILE says: the chmods re-ship three copied files and the
    rm hides two."""
    base = Layer().dir("bin").file("bin/sh", b"s" * 100)
    copied = (
        Layer()
        .dir("app")
        .file("app/run.sh", b"r" * 3000)
        .file("app/tool", b"t" * 7000)
        .dir("app/data")
        .file("app/data/secret", b"k" * 11000)
        .dir("app/tests")
        .file("app/tests/a.py", b"a" * 20000)
        .file("app/tests/b.py", b"b" * 50000)
    )
    run = (
        Layer()
        .file("app/run.sh", b"r" * 3000, mode=0o755)
        .file("app/tool", b"t" * 7000, mode=0o755)
        .file("app/data/secret", b"k" * 11000, mode=0o600)
        .whiteout("app/tests")
    )
    image = Image(
        [base.build(), copied.build(), run.build()],
        history=[
            {"created_by": "ADD rootfs.tar / # buildkit"},
            {"created_by": "COPY . /app # buildkit"},
            {"created_by": "RUN chmod ... # buildkit"},
        ],
    )
    path = write_skopeo_archive(Path(tmp_path_factory.mktemp("image")) / "image.tar", image)
    return analyze(str(path), AnalyzeOptions(min_finding_bytes=0, packages=False))


def test_violations_are_priced_with_the_shadowed_bytes_of_their_own_command(
    measured: object,
) -> None:
    rules = [ChmodAfterCopy(), DeletesEarlierLayer()]
    findings = lint_with_image(
        parse(_DOCKERFILE),
        rules,
        report=measured,
        layers={2: 1, 3: 2},  # type: ignore[arg-type]
    )
    run_line = _DOCKERFILE.split("\n")[2]
    priced = {(f.rule, run_line[f.column - 1 :][:8]): (f.bytes, f.layer) for f in findings}
    assert priced == {
        ("BS121", "chmod +x"): (3000 + 7000, 1),  # its two files, shipped by the COPY's layer
        ("BS122", "rm -rf /"): (20000 + 50000, 1),
        ("BS121", "chmod 60"): (11000, 1),
    }


@pytest.mark.parametrize(
    "text",
    [
        "FROM x\nRUN " + "apt-get update && pip install a && \\\n" * 8000 + "true\n",
        "FROM x\nRUN " + "".join(f"echo > /tmp/f{i} && rm -rf /tmp/* && \\\n" for i in range(8000)),
        "FROM x\n"
        + "".join(
            f"COPY a{i}.txt /app/d{i % 50}/a{i}.txt\n"
            f"RUN chmod -R 755 /app && rm -rf /app/d{i % 50}\n"
            for i in range(4000)
        ),
    ],
)
def test_every_rule_stays_fast_on_a_hostile_dockerfile(text: str) -> None:
    context = LintContext(parse(text + "RUN true\n"), None)
    started = time.monotonic()
    rules = [
        managers.AptListsNotRemoved,
        managers.AptNoInstallRecommends,
        managers.PipCache,
        managers.NpmCache,
        managers.YarnCache,
        managers.ApkCache,
        managers.YumCleanup,
        managers.DnfCleanup,
        managers.ZypperCleanup,
        ChmodAfterCopy,
        DeletesEarlierLayer,
        BuildToolsInFinalStage,
    ]
    found = [v for rule in rules for v in rule().check(context)]
    assert time.monotonic() - started < 60  # each rule linear in the commands, not quadratic
    assert len(found) < 20000
