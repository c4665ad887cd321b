""".dockerignore reading and matching: moby/patternmatcher's semantics, checked against its
own cases, and against what a real builder (buildah) leaves out of ``COPY . /ctx/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.dockerignore import (
    MAX_BYTES,
    DockerIgnore,
    dockerignore_patterns,
    read_dockerignore,
)


def excluded(patterns: list[str], path: str) -> bool:
    return DockerIgnore.of(patterns).excludes(path)


def test_comments_blanks_bom_crlf_and_trimming():
    text = "\ufeff# comment\r\n\r\n  docs/  \r\n # a pattern, not a comment\n!  keep.md\t\n\x0b\n"
    assert dockerignore_patterns(text) == ("docs/", "# a pattern, not a comment", "!  keep.md")


def test_go_whitespace_not_python_whitespace():
    # Go's TrimSpace keeps \x1c (a file separator); Python's strip() would drop it
    assert dockerignore_patterns("a\x1c\n") == ("a\x1c",)
    assert excluded(["a\x1c"], "a\x1c")
    assert not excluded(["a\x1c"], "a")


def test_read_returns_none_without_a_file(tmp_path: Path):
    assert read_dockerignore(str(tmp_path / ".dockerignore")) is None


def test_read_a_file(tmp_path: Path):
    path = tmp_path / ".dockerignore"
    path.write_bytes(b".git\n# c\n*.pyc\n")
    assert read_dockerignore(str(path)) == (".git", "*.pyc")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"ok\n!\n", 'illegal exclusion pattern: "!"'),
        (b"! \n", 'illegal exclusion pattern: "!"'),
        (b"!/\n", 'illegal exclusion pattern: "!"'),  # cleaned to "!"
        (b"a[\n", "syntax error"),
        (b"trailing\\\n", "syntax error"),
        (b"[]a]\n", "syntax error"),
        (b"[a-b-c]\n", "syntax error"),
        (b"[x-]\n", "syntax error"),
        (b"[z-a]\n", "cannot be matched"),  # Go's Match accepts it; its regexp does not
        (b"x" * (64 << 10 | 1), "longer than 64 KiB"),
    ],
)
def test_patterns_docker_refuses(tmp_path: Path, content: bytes, problem: str):
    path = tmp_path / ".dockerignore"
    path.write_bytes(content)
    with pytest.raises(DockerfileError) as error:
        read_dockerignore(str(path))
    message = str(error.value)
    assert problem in message
    assert message.startswith(str(path)) and "\n" not in message


def test_unreadable_and_oversized(tmp_path: Path):
    with pytest.raises(DockerfileError, match="cannot read"):
        read_dockerignore(str(tmp_path))  # a directory
    big = tmp_path / ".dockerignore"
    big.write_bytes(b"a\n" * (MAX_BYTES // 2 + 1))
    with pytest.raises(DockerfileError, match="larger than"):
        read_dockerignore(str(big))


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # moby/patternmatcher's TestMatches (MatchesOrParentMatches)
        ("**", "file", True),
        ("**/", "dir/file", True),
        ("dir/**", "dir/dir2/file", True),
        ("**/dir", "dir", True),
        ("**/dir", "dir/file", True),
        ("**/dir2/*", "dir/dir2/file", True),
        ("**file", "dir/dir/file", True),
        ("**/file*.txt", "dir/dir/file.txt", True),
        ("**/**/*.txt2", "dir/dir/file.txt", False),
        ("**/*.txt", "file.txt", True),
        ("a**/*.txt", "a/dir/dir/file.txt", True),
        ("a/*.txt", "a/dir/file.txt", False),
        ("a[b-d]e", "ace", True),
        ("a[b-d]e", "aae", False),
        ("a[^b-d]e", "aze", True),
        (".*", ".foo", True),
        (".*", "foo", False),
        ("abc.def", "abcZdef", False),
        ("abc?def", "abcZdef", True),
        ("abc/**", "abc", False),
        ("**/.foo", "bar.foo", False),
        ("a(b)c/def", "a(b)c/def", True),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "ab", False),
        ("a\\\\", "a\\", True),
        ("[\\]a]", "]", True),
        ("[x\\-]", "-", True),
        ("[a-ζ]*", "α", True),
        ("a?b", "a/b", False),
        ("a*", "ab/c", True),  # the parent matches
        # moby's quirks, kept
        ("**zz", "xzz", True),  # a leading ** without / is a plain suffix test
        ("a\\db", "a1b", True),  # an escaped letter keeps its regexp meaning
        ("a\\db", "adb", False),
        ("[[:digit:]]x", "7x", True),
        ("[[:digit:]]x", "dx", False),
        ("[*]", "*", False),  # moby's regexp: a class of "[^/" then "]"
        ("[*]", "^]", True),
        # cleaning
        ("/abs", "abs", True),
        ("./dot", "dot", True),
        ("dir/", "dir/file", True),
        ("a/../b", "b", True),
        ("x//y/./z", "x/y/z", True),
        ("../up", "up", False),
        ("/", "anything", False),
        (".", "anything", False),
        # a path is matched as well as each of its parent directories, at any depth
        ("*.log", "a.log", True),
        ("*.log", "sub/a.log", False),
        ("*/cache*", "sub/cache1", True),
        ("*/cache*", "a/b/cache3", False),
        ("build", "build/deep/file", True),
        ("build", "sub/build", False),
        ("temp?", "tempa", True),
        ("temp?", "tempab", False),
        ("foo/**/bar", "foo/bar", True),
        ("foo/**/bar", "foo/xbar", False),
        ("ends$", "ends$", True),
        ("lin?", "line\n", False),  # $ in Go does not match before a final newline
    ],
)
def test_single_patterns(pattern: str, path: str, expected: bool):
    assert excluded([pattern], path) is expected


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
        (["*.md", "!README*.md", "README-secret.md"], "README.md", False),
        (["*.md", "README-secret.md", "!README*.md"], "README-secret.md", False),
        (["docs", "!docs/README.md"], "docs/README.md", False),
        (["docs/*", "!docs/README.md"], "docs/other.md", True),
        (["!fileutils.go", "*.go"], "fileutils.go", True),
        (["! neg/x.txt", "neg"], "neg/x.txt", True),  # the last match wins
        (["**", "!util/docker/web"], "util/docker/web/foo", False),
        (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
        # BuildKit walks into an excluded directory when there are exceptions: a file below
        # that an exception matches is sent
        (["cache", "!cache/**/*.keep"], "cache/b/c.keep", False),
        ([], "any", False),
    ],
)
def test_last_match_wins(patterns: list[str], path: str, expected: bool):
    assert excluded(patterns, path) is expected


@pytest.mark.parametrize("path", [".", "./", "/", ""])
def test_the_context_root_is_never_excluded(path: str):
    assert not excluded(["**", "*"], path)


def test_path_forms():
    ignore = DockerIgnore.of(["venv/"])
    assert ignore.excludes("venv/bin/python")
    assert ignore.excludes("./venv/bin/python")
    assert ignore.excludes("/venv/bin/python")
    assert not ignore.excludes("src/venv/bin/python")


# One build context for the real builder: each probe file with what Docker's matcher decides.
_ORACLE_PATTERNS = "".join(
    line + "\n"
    for line in (
        "# a comment",
        " # not-a-comment",
        "/abs.txt",
        "./dot.txt",
        "*.log",
        "**/*.tmp",
        "docs/",
        "build",
        "temp?",
        "*/cache*",
        "**/node_modules",
        "logs/**",
        "!logs/keep.txt",
        "*.md",
        "!README*.md",
        "README-secret.md",
        "vendor",
        "!vendor/keep.txt",
        "[a-c]x.bin",
        "[^a]y.bin",
        "[[:digit:]]d.bin",
        "a\\*b",
        "a\\db",
        "sub/../up.txt",
        "foo/**/bar",
        "**/*.py[co]",
        "**zz",
        "ws.txt   ",
        "! neg/x.txt",
        "neg",
        "cache",
        "!cache/**/*.keep",
        "/x//y/./z.txt",
    )
)
_ORACLE_EXCLUDED = {
    "# not-a-comment", "abs.txt", "dot.txt", "a.log", "r.tmp", "sub/deep/s.tmp", "docs/x",
    "docs/y/z", "build/deep/file", "tempa", "sub/cache1", "node_modules/m",
    "sub/node_modules/n", "logs/x", "logs/d/e", "x.md", "README-secret.md", "vendor/v",
    "ax.bin", "by.bin", "1d.bin", "a*b", "a1b", "up.txt", "foo/bar", "foo/x/y/bar", "m.pyc",
    "p/q/m.pyo", "zz", "dir/zz", "xzz", "ws.txt", "neg/x.txt", "neg/y.txt", "cache/a",
    "x/y/z.txt",
}  # fmt: skip
_ORACLE_KEPT = {
    " # not-a-comment", "# a comment", "sub/abs.txt", "sub/dot.txt", "sub/b.log",
    "sub/docs/w", "sub/build", "tempab", "cache2", "a/b/cache3", "logs/keep.txt", "README.md",
    "sub/y.md", "vendor/keep.txt", "dx.bin", "ay.bin", "xd.bin", "axb", "adb", "sub/up.txt",
    "foo/xbar", "m.py", "ws.txt   ", "cache/d.keep", "cache/b/c.keep", "Dockerfile",
    ".dockerignore",
}  # fmt: skip
# Where buildah 1.28 (containers/storage's older copy of the matcher, and the classic walker)
# and Docker differ, this module follows Docker:
#  - "**zz": moby compiles a leading ** followed by plain text to a suffix test, so "xzz" is
#    excluded; the older matcher used the regexp ^(.*/)?zz$ and keeps it.
#  - "cache" + "!cache/**/*.keep": BuildKit's walker enters an excluded directory when any
#    exception exists and sends "cache/b/c.keep"; the classic walker only enters "cache/b" when
#    an exception starts with "cache/b/", so it leaves the file out.
_BUILDAH_DIFFERS = {"xzz", "cache/b/c.keep"}


def test_matcher_decides_every_probe():
    ignore = DockerIgnore.of(dockerignore_patterns(_ORACLE_PATTERNS))
    assert {p for p in _ORACLE_EXCLUDED | _ORACLE_KEPT if ignore.excludes(p)} == _ORACLE_EXCLUDED


def _buildah_copied(context: Path, store: Path) -> set[str]:
    """The files buildah's ``COPY . /ctx/`` put in the image, relative to /ctx."""
    base = [
        "buildah", "--root", str(store / "root"), "--runroot", str(store / "run"),
        "--storage-driver", "vfs",
    ]  # fmt: skip
    image = "localhost/bloatscope-test-ignore:latest"
    subprocess.run(
        [*base, "bud", "-q", "--isolation", "chroot", "-t", image, str(context)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    layout = store / "oci"
    subprocess.run(
        [*base, "push", "-q", image, f"oci:{layout}"], check=True, capture_output=True, timeout=300
    )
    index = json.loads((layout / "index.json").read_text())
    blobs = layout / "blobs" / "sha256"
    digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((blobs / digest).read_text())
    copied = set()
    for layer in manifest["layers"]:
        with tarfile.open(blobs / layer["digest"].split(":")[1]) as tar:
            copied |= {m.name.removeprefix("ctx/") for m in tar.getmembers() if m.isfile()}
    return copied


@pytest.mark.skipif(
    shutil.which("buildah") is None or os.geteuid() != 0, reason="needs buildah, as root"
)
def test_against_buildah(tmp_path: Path):
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx/\n")
    (context / ".dockerignore").write_text(_ORACLE_PATTERNS)
    for name in (_ORACLE_EXCLUDED | _ORACLE_KEPT) - {"Dockerfile", ".dockerignore"}:
        probe = context / name
        probe.parent.mkdir(parents=True, exist_ok=True)
        probe.write_text(name)
    copied = _buildah_copied(context, tmp_path / "store")
    ignore = DockerIgnore.of(read_dockerignore(str(context / ".dockerignore")) or ())
    probes = _ORACLE_EXCLUDED | _ORACLE_KEPT
    assert copied <= probes
    disagree = {p for p in probes if ignore.excludes(p) == (p in copied)}
    assert disagree == _BUILDAH_DIFFERS
