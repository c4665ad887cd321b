"""Cause 5: installers and archives left behind after their contents were installed or
unpacked: wheels, .deb/.rpm/.apk/.gem packages and tar/zip archives in /tmp, /var/tmp, /root or
the image's WORKDIR. Files under a package manager's cache belong to the cache cause, and
archives inside site-packages or node_modules are runtime data, so neither is claimed here."""

from __future__ import annotations

from collections.abc import Iterator

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.analysis.caches import cache_kind
from bloatscope.model.finding import Severity

# ".jar" is deliberately absent: a jar is what the program runs, not what it was installed from.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".whl", "wheel"),
    (".deb", "deb"),
    (".rpm", "rpm"),
    (".apk", "apk"),
    (".gem", "gem"),
    (".tar.gz", "archive"),
    (".tgz", "archive"),
    (".tar.xz", "archive"),
    (".tar.bz2", "archive"),
    (".tar.zst", "archive"),
    (".tar", "archive"),
    (".zip", "archive"),
)
_ALL_SUFFIXES = tuple(suffix for suffix, _kind in _SUFFIXES)
_PLACES = ("tmp/", "var/tmp/", "root/")
# Directories whose archives a program reads at run time (zipped eggs, bundled test data).
_RUNTIME_DIRS = ("/site-packages/", "/dist-packages/", "/node_modules/")

_EXAMPLES = {
    "wheel": "`RUN --mount=type=bind,source=pkg.whl,target=/tmp/pkg.whl pip install /tmp/pkg.whl`",
    "deb": "`RUN --mount=type=bind,source=pkg.deb,target=/tmp/pkg.deb apt-get install -y "
    "/tmp/pkg.deb`",
    "rpm": "`RUN --mount=type=bind,source=pkg.rpm,target=/tmp/pkg.rpm rpm -i /tmp/pkg.rpm`",
    "apk": "`RUN --mount=type=bind,source=pkg.apk,target=/tmp/pkg.apk apk add --allow-untrusted "
    "/tmp/pkg.apk`",
    "gem": "`RUN --mount=type=bind,source=pkg.gem,target=/tmp/pkg.gem gem install /tmp/pkg.gem`",
    "archive": "`RUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz tar -xzf "
    "/tmp/app.tar.gz -C /opt`, or `ADD app.tar.gz /opt/` which unpacks without keeping it",
}
_TITLES = {
    "wheel": "Python wheels left after install",
    "deb": ".deb packages left after install",
    "rpm": ".rpm packages left after install",
    "apk": ".apk packages left after install",
    "gem": ".gem packages left after install",
    "archive": "archives left after unpacking",
}


def installer_kind(path: str) -> str | None:
    """The kind of package or archive ``path`` names by its suffix, or None."""
    lowered = path.lower()
    if not lowered.endswith(_ALL_SUFFIXES):
        return None
    return next(kind for suffix, kind in _SUFFIXES if lowered.endswith(suffix))


def _places(working_dir: str) -> tuple[str, ...]:
    """Where an installer is copied or downloaded to: the scratch dirs, root's home and the
    WORKDIR (unless that is "/", which would be every path)."""
    workdir = working_dir.strip("/")
    return (*_PLACES, workdir + "/") if workdir else _PLACES


class InstallerAnalyzer(Analyzer):
    """Claims visible package files and archives in the places installs start from."""

    cause = "installer-left"

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        places = _places(data.image.config.working_dir)
        for path, size, content in data.files:
            # the place test first: one startswith rules out nearly every path
            if not path.startswith(places):
                continue
            kind = installer_kind(path)
            if kind is None or cache_kind(path) is not None or path.startswith("root/.cache/"):
                continue
            if any(part in "/" + path for part in _RUNTIME_DIRS):
                continue
            yield Claim(kind, content, "/" + path, size)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        del paths
        fix = (
            "Install from a bind mount or a build stage instead of copying the file in ("
            + _EXAMPLES[group]
            + "), or download, install and delete it in the same RUN."
        )
        return Description(_TITLES[group], fix, Severity.MEDIUM)
