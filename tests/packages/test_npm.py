"""The npm cataloger: package directories, Node's nearest-copy resolution, dev and requested
marks, global installs, broken package.json files, and a real ``npm install`` checked against
``npm ls`` and npm's own lockfile."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import pytest

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Platform
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import ImageFiles
from bloatscope.packages.npm import NpmCataloger

CAPTURE = re.compile(NpmCataloger.capture.encode())  # as the reader compiles it: bytes


def manifest(name: str | None, version: str = "1.0.0", **fields: object) -> bytes:
    document: dict[str, object] = {"version": version, **fields}
    if name is not None:
        document["name"] = name
    return json.dumps(document).encode()


def catalog(
    contents: Mapping[str, bytes], other_paths: Iterable[str] = ()
) -> tuple[dict[str, PackageRecord], list[str]]:
    warnings: list[str] = []
    records = NpmCataloger().catalog(
        ImageFiles.from_mapping(contents, other_paths), warnings.append
    )
    by_location = {record.location: record for record in records}
    assert len(by_location) == len(records)
    return by_location, warnings


def requirement_locations(record: PackageRecord) -> dict[str, str]:
    return {requirement.names[0]: requirement.location for requirement in record.requires}


# --- capture ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("app/node_modules/ms/package.json", True),
        ("app/node_modules/@types/node/package.json", True),
        ("app/node_modules/a/node_modules/ms/package.json", True),
        ("node_modules/ms/package.json", True),
        ("app/node_modules/.package-lock.json", True),
        ("app/package.json", True),
        ("package.json", True),
        ("srv/app/package-lock.json", True),
        ("srv/app/npm-shrinkwrap.json", True),
        ("usr/local/lib/node_modules/npm/package.json", True),
        # inside a package but not a package directory of its own
        ("app/node_modules/glob/dist/esm/package.json", False),
        ("app/node_modules/@types/package.json", False),
        ("app/node_modules/.bin/package.json", False),
        ("app/node_modules/x/package-lock.json", False),
        ("app/node_modules/x/test/fixtures/npm-shrinkwrap.json", False),
        ("app/mypackage.json", False),
        ("app/package.json.bak", False),
        ("app/node_modules/ms/index.js", False),
    ],
)
def test_capture_keeps_package_directories_and_project_roots(path: str, kept: bool) -> None:
    assert bool(CAPTURE.search(path.encode())) is kept


# --- records ---------------------------------------------------------------------------------


def test_plain_and_scoped_packages_own_their_directories() -> None:
    records, warnings = catalog(
        {
            "app/node_modules/ms/package.json": manifest("ms", "2.1.3"),
            "app/node_modules/@types/node/package.json": manifest("@types/node", "20.11.5"),
            "app/node_modules/@types/node/ts5.6/package.json": b'{"type": "module"}',
        },
        other_paths=["app/node_modules/ms/index.js", "app/node_modules/@types/node/fs.d.ts"],
    )
    assert warnings == []
    assert records == {
        "app/node_modules/@types/node": PackageRecord(
            Ecosystem.NPM,
            "@types/node",
            "20.11.5",
            "app/node_modules/@types/node",
            files=(),
            files_known=True,
            trees=("app/node_modules/@types/node",),
            requested=None,
        ),
        "app/node_modules/ms": PackageRecord(
            Ecosystem.NPM,
            "ms",
            "2.1.3",
            "app/node_modules/ms",
            files=(),
            files_known=True,
            trees=("app/node_modules/ms",),
            requested=None,
        ),
    }


def test_name_falls_back_to_the_directory() -> None:
    records, _ = catalog(
        {
            "node_modules/left-pad/package.json": manifest(None, "1.3.0"),
            "node_modules/@scope/tool/package.json": b'{"name": 7, "version": "0.1.0"}',
        }
    )
    assert records["node_modules/left-pad"].name == "left-pad"
    assert records["node_modules/@scope/tool"].name == "@scope/tool"
    assert records["node_modules/@scope/tool"].version == "0.1.0"


def test_two_copies_of_a_name_each_dependent_gets_the_nearest() -> None:
    records, warnings = catalog(
        {
            "app/package.json": manifest("app", dependencies={"a": "*", "b": "*"}),
            "app/node_modules/a/package.json": manifest("a", dependencies={"c": "^2"}),
            "app/node_modules/a/node_modules/c/package.json": manifest("c", "2.0.0"),
            "app/node_modules/b/package.json": manifest("b", dependencies={"c": "^1"}),
            "app/node_modules/c/package.json": manifest("c", "1.0.0"),
            "app/node_modules/@s/d/package.json": manifest(
                "@s/d", dependencies={"c": "^1", "@s/e": "*"}
            ),
            "app/node_modules/@s/e/package.json": manifest("@s/e"),
        }
    )
    assert warnings == []
    assert requirement_locations(records["app/node_modules/a"]) == {
        "c": "app/node_modules/a/node_modules/c"
    }
    assert requirement_locations(records["app/node_modules/b"]) == {"c": "app/node_modules/c"}
    assert requirement_locations(records["app/node_modules/@s/d"]) == {
        "c": "app/node_modules/c",
        "@s/e": "app/node_modules/@s/e",
    }
    assert records["app/node_modules/a/node_modules/c"].version == "2.0.0"
    assert records["app/node_modules/c"].version == "1.0.0"
    # requested means "the copy the project's own require() finds", not any copy of the name
    requested = {location for location, record in records.items() if record.requested}
    assert requested == {"app/node_modules/a", "app/node_modules/b"}


def test_dependency_kinds_merge_and_missing_ones_stay_unresolved() -> None:
    records, _ = catalog(
        {
            "node_modules/chokidar/package.json": manifest(
                "chokidar",
                dependencies={"braces": "^3", "glob-parent": "^5"},
                optionalDependencies={"fsevents": "~2.3", "braces": "^3"},
                peerDependencies={"typescript": "*", "react": "*"},
                peerDependenciesMeta={
                    "supports-color": {"optional": True},
                    "react-dom": {"optional": True},
                },
            ),
            "node_modules/braces/package.json": manifest("braces"),
            "node_modules/glob-parent/package.json": manifest("glob-parent"),
            "node_modules/react/package.json": manifest("react"),
            "node_modules/react-dom/package.json": manifest("react-dom"),
        }
    )
    assert records["node_modules/chokidar"].requires == (
        # optionalDependencies overrides dependencies: weak
        Requirement(("braces",), location="node_modules/braces", weak=True),
        Requirement(("glob-parent",), location="node_modules/glob-parent"),
        # optional and missing: still a requirement, resolved to nothing
        Requirement(("fsevents",), location="", weak=True),
        # peers only when installed: react and react-dom are, typescript and supports-color
        # are not; react-dom is an optional peer, named only in peerDependenciesMeta
        Requirement(("react",), location="node_modules/react"),
        Requirement(("react-dom",), location="node_modules/react-dom", weak=True),
    )


def test_dev_marks_come_from_the_hidden_lockfile_first() -> None:
    hidden = {
        "lockfileVersion": 3,
        "packages": {
            "node_modules/jest": {"version": "29.7.0", "dev": True},
            "node_modules/fsevents": {"version": "2.3.3", "devOptional": True},
            "node_modules/express": {"version": "4.19.2"},
        },
    }
    # an older package-lock.json that disagrees; npm trusts the hidden one for node_modules
    stale = {"lockfileVersion": 3, "packages": {"node_modules/express": {"dev": True}}}
    records, warnings = catalog(
        {
            "app/package.json": manifest(
                "app", dependencies={"express": "*"}, devDependencies={"jest": "*"}
            ),
            "app/package-lock.json": json.dumps(stale).encode(),
            "app/node_modules/.package-lock.json": json.dumps(hidden).encode(),
            "app/node_modules/jest/package.json": manifest("jest", "29.7.0"),
            "app/node_modules/fsevents/package.json": manifest("fsevents", "2.3.3"),
            "app/node_modules/express/package.json": manifest("express", "4.19.2"),
        }
    )
    assert warnings == []
    assert {location: record.dev for location, record in records.items()} == {
        "app/node_modules/jest": True,
        "app/node_modules/fsevents": True,
        "app/node_modules/express": False,
    }
    assert {location: record.requested for location, record in records.items()} == {
        "app/node_modules/jest": True,
        "app/node_modules/fsevents": False,
        "app/node_modules/express": True,
    }


def test_dev_marks_from_a_version_1_lockfile_nest() -> None:
    lock = {
        "lockfileVersion": 1,
        "dependencies": {
            "mocha": {
                "version": "10.0.0",
                "dev": True,
                "dependencies": {"ms": {"version": "2.1.3", "dev": True}},
            },
            "ms": {"version": "2.0.0"},
        },
    }
    records, warnings = catalog(
        {
            "srv/package-lock.json": json.dumps(lock).encode(),
            "srv/node_modules/mocha/package.json": manifest("mocha", "10.0.0"),
            "srv/node_modules/mocha/node_modules/ms/package.json": manifest("ms", "2.1.3"),
            "srv/node_modules/ms/package.json": manifest("ms", "2.0.0"),
        }
    )
    assert warnings == []
    assert {location: record.dev for location, record in records.items()} == {
        "srv/node_modules/mocha": True,
        "srv/node_modules/mocha/node_modules/ms": True,
        "srv/node_modules/ms": False,
    }
    # a lockfile but no package.json: nothing says what was asked for
    assert {record.requested for record in records.values()} == {None}


def test_without_a_lockfile_dev_is_what_only_devdependencies_reach() -> None:
    records, warnings = catalog(
        {
            "app/package.json": manifest(
                "app",
                dependencies={"web": "*"},
                devDependencies={"tester": "*", "web": "*"},
                optionalDependencies={"speedup": "*"},
            ),
            "app/node_modules/web/package.json": manifest("web", dependencies={"shared": "*"}),
            "app/node_modules/tester/package.json": manifest(
                "tester", dependencies={"shared": "*", "assertions": "*"}
            ),
            "app/node_modules/shared/package.json": manifest("shared"),
            "app/node_modules/assertions/package.json": manifest(
                "assertions", dependencies={"deep": "*"}
            ),
            "app/node_modules/assertions/node_modules/deep/package.json": manifest("deep"),
            "app/node_modules/speedup/package.json": manifest("speedup"),
            "app/node_modules/stray/package.json": manifest("stray"),
        }
    )
    assert warnings == []
    assert {location: (record.dev, record.requested) for location, record in records.items()} == {
        "app/node_modules/web": (False, True),
        "app/node_modules/tester": (True, True),
        "app/node_modules/shared": (False, False),
        "app/node_modules/assertions": (True, False),
        "app/node_modules/assertions/node_modules/deep": (True, False),
        "app/node_modules/speedup": (False, True),
        "app/node_modules/stray": (False, False),
    }


def test_global_installs_are_requested_at_the_top_level() -> None:
    records, warnings = catalog(
        {
            "usr/local/lib/node_modules/npm/package.json": manifest(
                "npm", "10.8.2", dependencies={"abbrev": "^2"}
            ),
            "usr/local/lib/node_modules/npm/node_modules/abbrev/package.json": manifest(
                "abbrev", "2.0.0"
            ),
            "usr/lib/node_modules/@angular/cli/package.json": manifest("@angular/cli", "17.3.0"),
            "usr/local/lib/node_modules/.package-lock.json": json.dumps(
                {"lockfileVersion": 3, "packages": {"node_modules/npm": {"version": "10.8.2"}}}
            ).encode(),
        }
    )
    assert warnings == []
    assert {location: (record.requested, record.dev) for location, record in records.items()} == {
        "usr/local/lib/node_modules/npm": (True, False),
        "usr/local/lib/node_modules/npm/node_modules/abbrev": (False, False),
        "usr/lib/node_modules/@angular/cli": (True, False),
    }
    assert requirement_locations(records["usr/local/lib/node_modules/npm"]) == {
        "abbrev": "usr/local/lib/node_modules/npm/node_modules/abbrev"
    }


def test_a_byte_order_mark_is_tolerated() -> None:
    records, warnings = catalog(
        {"node_modules/bom/package.json": b"\xef\xbb\xbf" + manifest("bom", "1.2.3")}
    )
    assert warnings == []
    assert records["node_modules/bom"].version == "1.2.3"


def test_odd_field_types_are_ignored_not_fatal() -> None:
    records, warnings = catalog(
        {
            "node_modules/old/package.json": json.dumps(
                {"name": "old", "version": 3, "dependencies": ["a", "b"], "peerDependencies": "x"}
            ).encode(),
            "node_modules/weird/package.json": manifest(
                "weird", dependencies={"../../etc": "*", ".": "*"}
            ),
            "node_modules/etc/package.json": manifest("etc"),
        }
    )
    assert warnings == []
    assert records["node_modules/old"].version == ""
    assert records["node_modules/old"].requires == ()
    # names that are not package names never resolve to a directory
    assert requirement_locations(records["node_modules/weird"]) == {"../../etc": "", ".": ""}


# --- broken input ----------------------------------------------------------------------------

BROKEN = {
    "bad JSON": (b'{"name": "x", "version": ', "not JSON"),
    "not an object": (b'["x", "1.0.0"]', "not a JSON object"),
    "huge nesting": (b'{"name": "x", "deep": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "deep"),
    "not UTF-8": (b'{"name": "caf\xe9"}', "not UTF-8"),
    "huge integer": (b'{"version": ' + b"9" * 100_000 + b"}", "not JSON"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_package_json_is_one_warning_and_skipped(kind: str) -> None:
    content, problem = BROKEN[kind]
    records, warnings = catalog(
        {
            "app/node_modules/broken/package.json": content,
            "app/node_modules/user/package.json": manifest("user", dependencies={"broken": "*"}),
        }
    )
    assert len(warnings) == 1
    assert warnings[0].startswith("app/node_modules/broken/package.json: ")
    assert problem in warnings[0]
    assert list(records) == ["app/node_modules/user"]
    # the broken copy is what Node would find, so the requirement resolves to nothing
    assert requirement_locations(records["app/node_modules/user"]) == {"broken": ""}


def test_hostile_nesting_is_cut_off_with_one_warning() -> None:
    """200 nested levels, each naming 150 missing dependencies: looking each up through every
    enclosing node_modules would take 3 million tries; the lookup budget stops it."""
    contents: dict[str, bytes] = {}
    directory = ""
    for level in range(200):
        directory = f"{directory}node_modules/p{level}/"
        names = {f"missing{index}": "*" for index in range(150)}
        contents[directory + "package.json"] = manifest(
            f"p{level}", dependencies={f"p{level + 1}": "*", **names}
        )
    warnings: list[str] = []
    # a plain ImageFiles: from_mapping's parent listing is quadratic in depth
    files = ImageFiles(contents, contents.__contains__, lambda path: [], Platform("linux", "amd64"))
    records = NpmCataloger().catalog(files, warnings.append)
    assert len(records) == 200
    assert len(warnings) == 1
    assert warnings[0].endswith(": too many dependency lookups; the rest left unresolved")
    assert warnings[0].split(": ")[0] in {record.location for record in records}
    first, last = records[0], records[-1]
    assert first.requires[0] == Requirement(("p1",), location="node_modules/p0/node_modules/p1")
    assert last.requires[0] == Requirement(("p200",), location="")


def test_a_broken_root_package_json_leaves_requested_unknown() -> None:
    records, warnings = catalog(
        {"app/package.json": b"{oops", "app/node_modules/ms/package.json": manifest("ms")}
    )
    assert len(warnings) == 1
    assert warnings[0].startswith("app/package.json: not JSON")
    assert records["app/node_modules/ms"].requested is None


def test_a_broken_lockfile_falls_back_to_the_next_source() -> None:
    records, warnings = catalog(
        {
            "app/package.json": manifest("app", devDependencies={"jest": "*"}),
            "app/node_modules/.package-lock.json": b"[]",
            "app/package-lock.json": json.dumps({"lockfileVersion": 3}).encode(),
            "app/node_modules/jest/package.json": manifest("jest"),
        }
    )
    assert warnings == [
        "app/node_modules/.package-lock.json: not a JSON object",
        "app/package-lock.json: lockfile lists no packages",
    ]
    assert records["app/node_modules/jest"].dev is True  # from package.json reachability


def test_a_root_package_json_too_large_to_keep_is_reported() -> None:
    records, warnings = catalog(
        {"app/node_modules/ms/package.json": manifest("ms")}, other_paths=["app/package.json"]
    )
    assert warnings == ["app/package.json: present but not kept (too large, or not a regular file)"]
    assert records["app/node_modules/ms"].requested is None


def test_unrelated_package_json_files_are_never_read() -> None:
    records, warnings = catalog(
        {"usr/share/doc/thing/package.json": b"not json", "opt/tool/package.json": b"{"}
    )
    assert records == {}
    assert warnings == []


# --- against real npm ------------------------------------------------------------------------


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() in ("true", "1"):
        pytest.fail(f"{reason} (CI=true: npm and its registry must be reachable)")
    pytest.skip(reason)


def _registry_reachable(npm: str) -> bool:
    registry = subprocess.run(
        [npm, "config", "get", "registry"], check=False, capture_output=True, text=True, timeout=60
    ).stdout.strip()
    try:
        with urllib.request.urlopen(registry or "https://registry.npmjs.org/", timeout=5):
            return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _npm(npm: str, app: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "npm_config_update_notifier": "false"}
    return subprocess.run(
        [npm, *args],
        check=False,
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


@pytest.fixture(scope="module")
def installed_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project where npm installed debug (which needs ms) and is-odd (which needs is-number
    6) as dependencies, and is-number 7 as a devDependency, so is-odd keeps its own copy."""
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is not installed")
    app = tmp_path_factory.mktemp("image") / "srv" / "app"
    app.mkdir(parents=True)
    (app / "package.json").write_text(
        json.dumps(
            {
                "name": "demo",
                "version": "1.0.0",
                "dependencies": {"debug": "4.3.4", "is-odd": "3.0.1"},
                "devDependencies": {"is-number": "7.0.0"},
            }
        )
    )
    # asked first: offline, npm install would spend minutes retrying before it gives up
    if not _registry_reachable(npm):
        _unavailable("the npm registry is unreachable")
    done = _npm(npm, app, "install", "--no-audit", "--no-fund", "--ignore-scripts")
    if done.returncode != 0:
        pytest.fail(f"npm install failed:\n{done.stderr}")
    return app


def _image_files(app: Path, leave_out: Iterable[str] = ()) -> ImageFiles:
    """The install as an image would hold it under srv/app: captured files with contents."""
    root = app.parents[1]
    contents: dict[str, bytes] = {}
    others: list[str] = []
    for path in sorted(app.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        if relative in leave_out:
            continue
        if CAPTURE.search(relative.encode()):
            contents[relative] = path.read_bytes()
        else:
            others.append(relative)
    return ImageFiles.from_mapping(contents, others)


def _npm_ls(app: Path) -> dict[str, Any]:
    npm = shutil.which("npm")
    assert npm is not None
    done = _npm(npm, app, "ls", "--all", "--json", "--long")
    assert done.returncode == 0, done.stderr
    tree: dict[str, Any] = json.loads(done.stdout)
    return tree


def _ls_packages(tree: Mapping[str, Any], root: Path) -> dict[str, dict[str, Any]]:
    """npm ls's nodes by image path: name, version, dev, and where each dependency resolved."""
    found: dict[str, dict[str, Any]] = {}
    pending = [tree]
    while pending:
        node = pending.pop()
        children = node.get("dependencies", {})
        location = Path(node["path"]).relative_to(root).as_posix()
        if "node_modules" in location:
            found[location] = {
                "name": node["name"],
                "version": node["version"],
                "dev": node.get("dev", False),
                "requires": {
                    name: Path(child["path"]).relative_to(root).as_posix()
                    for name, child in children.items()
                },
            }
        pending.extend(children.values())
    return found


def _records(files: ImageFiles) -> dict[str, PackageRecord]:
    warnings: list[str] = []
    records = NpmCataloger().catalog(files, warnings.append)
    assert warnings == []
    return {record.location: record for record in records}


def test_agrees_with_npm_ls_and_the_lockfile(installed_app: Path) -> None:
    root = installed_app.parents[1]
    expected = _ls_packages(_npm_ls(installed_app), root)
    lock = json.loads((installed_app / "package-lock.json").read_text())["packages"]
    records = _records(_image_files(installed_app))

    assert set(records) == set(expected) == {f"srv/app/{key}" for key in lock if key}
    assert set(records) == {
        "srv/app/node_modules/debug",
        "srv/app/node_modules/ms",
        "srv/app/node_modules/is-odd",
        "srv/app/node_modules/is-odd/node_modules/is-number",
        "srv/app/node_modules/is-number",
    }
    for location, record in records.items():
        npm_says = expected[location]
        assert (record.name, record.version) == (npm_says["name"], npm_says["version"])
        assert record.version == lock[location.removeprefix("srv/app/")]["version"]
        assert record.dev is npm_says["dev"]
        assert record.dev is lock[location.removeprefix("srv/app/")].get("dev", False)
        assert record.trees == (location,)
        resolved = {name: where for name, where in requirement_locations(record).items() if where}
        assert resolved == npm_says["requires"]
    assert {location for location, record in records.items() if record.dev} == {
        "srv/app/node_modules/is-number"
    }
    assert {location for location, record in records.items() if record.requested} == {
        "srv/app/node_modules/debug",
        "srv/app/node_modules/is-odd",
        "srv/app/node_modules/is-number",
    }


def test_each_dev_source_agrees_on_the_real_install(installed_app: Path) -> None:
    """The hidden lockfile, package-lock.json, and package.json reachability give the same."""
    with_hidden = _records(_image_files(installed_app))
    hidden = "srv/app/node_modules/.package-lock.json"
    with_lock = _records(_image_files(installed_app, leave_out=[hidden]))
    from_reach = _records(
        _image_files(installed_app, leave_out=[hidden, "srv/app/package-lock.json"])
    )
    assert with_hidden == with_lock == from_reach
