"""Files a runtime image rarely needs: each kind by path, with its bytes, and lookalikes
left alone."""

from __future__ import annotations

from pathlib import Path

from analysis.support import analysis_input
from bloatscope.analysis.findings import find
from bloatscope.analysis.runtime_extras import RuntimeExtrasAnalyzer
from bloatscope.model.finding import Severity
from synth import Layer


def _layer(files: dict[str, int]) -> bytes:
    layer = Layer()
    for path, size in files.items():
        layer.file(path, b"x" * size)
    return layer.build()


SYSTEM = {
    "usr/share/doc/pkg/changelog.gz": 100,
    "usr/share/man/man1/x.1.gz": 20,
    "usr/share/info/x.info.gz": 30,
    "usr/share/locale/de/LC_MESSAGES/x.mo": 40,
    "usr/lib/x86_64-linux-gnu/libfoo.a": 300,
    "usr/include/foo.h": 25,
    "usr/local/include/bar.h": 15,
    "usr/lib/gcc/x86_64-linux-gnu/12/cc1": 1000,
    "usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a": 50,  # the toolchain's own, not a static lib
    "usr/libexec/gcc/x86_64-linux-gnu/12/cc1plus": 200,
    "usr/bin/x86_64-linux-gnu-gcc-12": 80,
    "usr/bin/x86_64-linux-gnu-ld.bfd": 90,
    # lookalikes
    "usr/share/doc/pkg/copyright": 7,  # the docs fix keeps these
    "usr/share/locale/locale.alias": 9,
    "usr/lib/x86_64-linux-gnu/libfoo.so.1": 111,
    "usr/bin/python3": 60,
    "opt/app/vendor/libbar.a": 13,  # not under a system lib directory
}
PACKAGES = {
    "usr/local/lib/python3.11/site-packages/numpy/core/tests/test_a.py": 70,
    "usr/local/lib/python3.11/site-packages/pkg/tests/data/x.bin": 30,
    "usr/lib/python3/dist-packages/pkg/test/t.py": 5,
    "app/node_modules/lodash/test/t.js": 11,
    "app/node_modules/@scope/pkg/__tests__/a.js": 13,
    "usr/local/lib/python3.11/site-packages/numpy/core/include/numpy/arrayobject.h": 12,
    # lookalikes
    "usr/local/lib/python3.11/site-packages/pkg/testing/util.py": 9,
    "usr/local/lib/python3.11/site-packages/pkg/module.py": 10,
    "app/node_modules/test/index.js": 17,  # a package named "test"
    "srv/tests/smoke.py": 19,  # the project's own tests, not an installed package's
}


def test_each_kind_with_its_bytes(tmp_path: Path) -> None:
    data = analysis_input(
        tmp_path,
        [_layer(SYSTEM), _layer(PACKAGES)],
        ["/bin/sh -c apt-get install -y build-essential", "/bin/sh -c pip install numpy"],
    )
    findings = find(data, (RuntimeExtrasAnalyzer(),))
    found = {(f.group, f.layer): (f.bytes, f.path_count) for f in findings}
    assert found == {
        ("docs", 0): (150, 3),
        ("locales", 0): (40, 1),
        ("static-libs", 0): (300, 1),
        ("headers", 0): (40, 2),
        ("toolchains", 0): (1420, 5),
        ("tests", 1): (129, 5),
        ("headers", 1): (12, 1),
    }
    for finding in findings:
        assert finding.cause == "runtime-unneeded"
        assert finding.severity is Severity.LOW
        assert finding.fix
    claimed = {path for finding in findings for path in finding.paths if finding.path_count <= 5}
    for path in (
        "/usr/share/doc/pkg/copyright",
        "/usr/share/locale/locale.alias",
        "/usr/lib/x86_64-linux-gnu/libfoo.so.1",
        "/usr/bin/python3",
        "/opt/app/vendor/libbar.a",
        "/usr/local/lib/python3.11/site-packages/pkg/testing/util.py",
        "/app/node_modules/test/index.js",
        "/srv/tests/smoke.py",
    ):
        assert path not in claimed


def test_fixes_name_the_remedy() -> None:
    analyzer = RuntimeExtrasAnalyzer()
    assert "path-exclude" in analyzer.describe("docs", ()).fix
    assert "/etc/dpkg/dpkg.cfg.d/" in analyzer.describe("locales", ()).fix
    for group in ("static-libs", "headers", "toolchains"):
        assert "multi-stage" in analyzer.describe(group, ()).fix
    assert "same RUN" in analyzer.describe("tests", ()).fix


def test_hidden_files_are_not_claimed(tmp_path: Path) -> None:
    """A doc file a later layer deletes is shadowed waste, not this cause's."""
    data = analysis_input(
        tmp_path,
        [_layer({"usr/share/doc/a/README": 40}), Layer().whiteout("usr/share/doc/a").build()],
        ["/bin/sh -c apt-get install -y a", "/bin/sh -c rm -rf /usr/share/doc/a"],
    )
    assert find(data, (RuntimeExtrasAnalyzer(),)) == ()
