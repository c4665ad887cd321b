"""Cause 7: files a runtime image rarely needs. Owns, by path only, documentation (docs, man
and info pages), message catalogs, static libraries, C headers, test suites inside installed
Python and JavaScript packages, and the gcc/binutils toolchain. Package-level naming (which
package brought them) belongs to the package analysis, not here."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.model.finding import Severity

# One anchored match sorts every path under a directory kind; the group name is the kind.
_BY_DIRECTORY = re.compile(
    r"(?:usr/(?:(?P<toolchains>lib/gcc|libexec/gcc|lib/gcc-cross|libexec/gcc-cross)"
    r"|(?P<docs>share/(?:doc|man|info)|local/share/(?:doc|man))"
    r"|(?P<locales>share/locale)"
    r"|(?P<headers>include|local/include)))/"
)
# The compiler drivers and binutils Debian installs under a target-triplet name (the plain
# names like gcc, ld and as are symlinks to these, so they hold no bytes of their own).
_TOOLCHAIN_BIN = re.compile(
    r"usr/bin/(?:"
    r"(?:x86_64|aarch64|i686|arm|powerpc64le|s390x|riscv64)-linux-gnu\w*-[^/]+"
    r"|(?:gcc|g\+\+|cpp)-[^/]+"
    r"|[^/]+-gcc-[^/]+"
    r")"
)
_LIB_DIRS = ("usr/lib/", "usr/local/lib/", "lib/")
# A test directory anywhere inside an installed package (numpy keeps them per subpackage).
_PY_TESTS = re.compile(r"(?:^|/)(?:site|dist)-packages/[^/]+/(?:[^/]+/)*?tests?/")
# Inside a package (scoped or not): a package that is itself named "test" is not a test suite.
_JS_TESTS = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/]+/(?:[^/]+/)*?(?:tests?|__tests__)/")

_DESCRIPTIONS = {
    "toolchains": (
        "compiler toolchain in the runtime image",
        "Build in a multi-stage build: install gcc/build-essential in the builder stage only and "
        "`COPY --from=builder` the built artifacts (wheels, binaries) into a slim final stage.",
    ),
    "static-libs": (
        "static libraries (*.a) in the runtime image",
        "Static libraries are only used at link time: link in a builder stage of a multi-stage "
        "build and copy only the result, leaving the -dev packages behind.",
    ),
    "headers": (
        "C headers in the runtime image",
        "Headers are only used at compile time: compile in a builder stage of a multi-stage "
        "build, so the -dev packages and their include/ trees stay out of the final image.",
    ),
    "docs": (
        "documentation, man and info pages",
        "Before apt installs, add `path-exclude /usr/share/doc/*`, `path-include "
        "/usr/share/doc/*/copyright`, `path-exclude /usr/share/man/*` and `path-exclude "
        "/usr/share/info/*` to /etc/dpkg/dpkg.cfg.d/excludes, or start from a slim base.",
    ),
    "locales": (
        "message catalogs for unused languages",
        "Keep only the locales you use: `path-exclude /usr/share/locale/*` plus `path-include` "
        "for yours in /etc/dpkg/dpkg.cfg.d/excludes before apt installs, or a slim base.",
    ),
    "tests": (
        "test suites inside installed packages",
        "Remove them in the same RUN that installs the packages (`&& find / -name tests -path "
        "'*-packages/*' -prune -exec rm -rf {} +`), or install wheels/packages without tests.",
    ),
}


def _kind(path: str) -> str | None:
    """The kind of runtime-unneeded file at ``path`` (root-relative), or None. Cheap string
    tests gate the regexes: this runs on every path of the image."""
    if "/test" in path or "/__tests__/" in path:
        if "-packages/" in path and _PY_TESTS.search(path):
            return "tests"
        if "node_modules/" in path and _JS_TESTS.search(path):
            return "tests"
    match = _BY_DIRECTORY.match(path)
    if match is not None:
        # gcc's own tree holds .a files and headers, but is the toolchain (the group order)
        kind = match.lastgroup
        if kind == "docs" and path.endswith("/copyright"):
            return None  # the fix keeps copyright files (path-include): not savings
        if kind == "locales" and path.endswith("/locale.alias"):
            return None
        return kind
    if path.startswith("usr/bin/"):
        return "toolchains" if _TOOLCHAIN_BIN.fullmatch(path) else None
    if path.endswith(".a"):
        return "static-libs" if path.startswith(_LIB_DIRS) else None
    if path.endswith(".h") and "-packages/" in path:
        return "headers"
    return None


class RuntimeExtrasAnalyzer(Analyzer):
    """Claims visible files a runtime rarely needs, grouped by kind: docs, locales,
    static-libs, headers, tests, toolchains."""

    cause = "runtime-unneeded"

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        for path, size, content in data.files:
            kind = _kind(path)
            if kind is not None:
                yield Claim(kind, content, "/" + path, size)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        del paths
        title, fix = _DESCRIPTIONS.get(group, (group, "Leave these files out of the final stage."))
        return Description(title, fix, Severity.LOW)
