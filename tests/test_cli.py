"""The command line: commands and formats on the built-in sample, exit codes, one-line errors,
colour, and untrusted names from images shown escaped.

Most tests call ``bloatscope.cli.main`` in-process; a few run ``python -m bloatscope`` to see
what a shell sees (exit status, no traceback, colour decisions made on a real stdout).
"""

from __future__ import annotations

import gc
import json
import os
import pty
import re
import stat
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bloatscope.cli import main
from cli_support import Run, json_of
from dive_probes import LayerTar, base_layer, payload, write_docker_archive

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "bloatscope" / "sample" / "sample.oci.tar"
SAMPLE_DOCKERFILE = ROOT / "sample" / "Dockerfile"
SGR = re.compile(rb"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def _collector_back_on() -> Iterator[None]:
    # main() turns the cyclic collector off for the rest of the process (fine for a CLI run);
    # in-process calls must not leave the test session without it
    yield
    gc.enable()


def python_m(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bloatscope", *args],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def plain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS")}
    env.update(extra)
    return env


# analyze


def test_analyze_without_an_image_reads_the_sample(run: Run) -> None:
    code, out, err = run("analyze")
    assert (code, err) == (0, "")
    assert out.startswith(f"{SAMPLE}  (oci-archive, linux/amd64)\n2.55 MB in 12 layers, ")
    assert "369 kB reclaimable" in out
    for section in ("Layers", "Largest files", "Largest directories", "Waste", "dive-compatible"):
        assert section in out


IMAGE_KEYS: dict[str, type | tuple[type, ...]] = {
    "reference": str,
    "size_bytes": int,
    "compressed_size_bytes": int,
    "layer_count": int,
    "efficiency": float,
    "wasted_bytes": int,
    "user_wasted_percent": (float, type(None)),  # null when dive's is NaN
    "reclaimable_bytes": int,
}
LAYER_KEYS: dict[str, type | tuple[type, ...]] = {
    "index": int,
    "diff_id": str,
    "size_bytes": int,
    "compressed_size_bytes": int,
    "created_by": (str, type(None)),
    "instruction": (str, type(None)),  # 1.2
    "file_count": int,
    "added": int,
    "modified": int,
    "removed": int,
}


def _typed(document: dict[str, Any], keys: dict[str, type | tuple[type, ...]]) -> None:
    for key, kind in keys.items():
        assert key in document, key
        value = document[key]
        assert isinstance(value, kind) and not isinstance(value, bool), (key, value)


def test_json_document_keeps_its_contract(run: Run) -> None:
    document = json_of(run, "analyze", "--format", "json")
    assert document["schema_version"] == "1.2"
    _typed(document["image"], IMAGE_KEYS)
    image = document["image"]
    assert image["reference"] == str(SAMPLE)
    assert image["layer_count"] == len(document["layers"]) == 12
    for index, layer in enumerate(document["layers"]):
        _typed(layer, LAYER_KEYS)
        assert layer["index"] == index
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", layer["diff_id"])
    assert image["size_bytes"] == sum(layer["size_bytes"] for layer in document["layers"])
    assert image["compressed_size_bytes"] == sum(
        layer["compressed_size_bytes"] for layer in document["layers"]
    )
    assert document["layers"][5]["created_by"].startswith("/bin/sh -c rnd 5 32768")


def _dockerfile_waste() -> dict[str, tuple[int, int]]:
    """The header of sample/Dockerfile: cause -> (bytes, 0-based layer that ships them)."""
    found = re.findall(
        r"^#\s+([a-z ]+?)\s+([\d,]+)\s+\S.*\(layer (\d+)", SAMPLE_DOCKERFILE.read_text(), re.M
    )
    return {cause: (int(size.replace(",", "")), int(layer) - 1) for cause, size, layer in found}


def test_sample_reclaimable_bytes_are_what_its_dockerfile_says(run: Run) -> None:
    waste = _dockerfile_waste()
    assert set(waste) == {
        "overwritten", "deleted", "pip cache", "apt cache", "dir recreated", "chmod only",
    }  # fmt: skip
    # bytes a later layer overwrote, deleted or re-shipped (the "reclaimable" breakdown of
    # shadowed bytes), and with the caches still visible, every finding
    shadowing = ("overwritten", "deleted", "dir recreated", "chmod only")
    expected = sum(waste[cause][0] for cause in shadowing)
    assert expected == 131_072 + 65_536 + 32_768 + 49_152 == 278_528
    everything = sum(size for size, _layer in waste.values())
    assert everything == expected + 40_960 + 49_152 == 368_640

    document = json_of(run, "analyze", "--format", "json")
    assert document["image"]["reclaimable_bytes"] == everything
    caches = {f["kind"]: f for f in document["findings"] if f["cause"] == "package-cache"}
    assert (caches["pip"]["bytes"], caches["pip"]["layer"]) == waste["pip cache"]
    assert (caches["apt-archives"]["bytes"], caches["apt-archives"]["layer"]) == waste["apt cache"]
    assert document["reclaimable"]["total_bytes"] == expected
    assert sum(document["reclaimable"]["by_cause"].values()) == expected
    assert document["reclaimable"]["by_cause"]["metadata-only"] == waste["chmod only"][0]
    per_layer = {layer["index"]: layer["reclaimable_bytes"] for layer in document["layers"]}
    assert {i: b for i, b in per_layer.items() if b} == {
        layer: size for size, layer in waste.values()
    }
    assert {(f["path"], f["size_bytes"]) for f in document["reclaimable"]["files"]} == {
        ("/app/model.bin", 131_072),
        ("/app/build.log", 65_536),
        ("/app/assets/a.bin", 16_384),
        ("/app/assets/b.bin", 16_384),
        ("/app/tool.bin", 49_152),
    }


def test_output_file_gets_the_same_json_and_replaces_a_longer_file(
    run: Run, tmp_path: Path
) -> None:
    code, expected, err = run("analyze", "--format", "json")
    assert (code, err) == (0, "")
    target = tmp_path / "report.json"
    target.write_text("x" * 3 * len(expected))  # dive's -j left such a tail behind
    code, out, err = run("analyze", "--format", "json", "--output", str(target))
    assert (code, out, err) == (0, "", "")
    assert target.read_text() == expected
    json.loads(target.read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


def test_dive_json_is_dives_document(run: Run) -> None:
    dive = json_of(run, "analyze", "--format", "dive-json")
    ours = json_of(run, "analyze", "--format", "json")
    assert list(dive) == ["layer", "image"]
    assert list(dive["image"]) == [
        "sizeBytes",
        "inefficientBytes",
        "efficiencyScore",
        "fileReference",
    ]
    layers = list(zip(dive["layer"], ours["layers"], strict=True))
    assert all(theirs["digestId"] == mine["diff_id"] for theirs, mine in layers)
    assert all(theirs["sizeBytes"] == mine["size_bytes"] for theirs, mine in layers)
    for layer in dive["layer"]:
        assert list(layer) == ["index", "id", "digestId", "sizeBytes", "command", "fileList"]
        assert not layer["command"].startswith("/bin/sh -c ")
    assert dive["image"]["sizeBytes"] == ours["image"]["size_bytes"]
    assert dive["image"]["inefficientBytes"] == ours["image"]["wasted_bytes"]
    assert dive["image"]["efficiencyScore"] == ours["image"]["efficiency"]
    assert (
        sum(f["sizeBytes"] for f in dive["image"]["fileReference"]) == ours["image"]["wasted_bytes"]
    )


# history


def _history_rows(out: str) -> list[str]:
    """The LAYER column of each row ("-" for steps without a layer)."""
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["LAYER", "CREATED", "CREATED"]
    return [line.split()[0] for line in lines[1:] if line.strip()]


def test_history_is_newest_first(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    steps = json_of(run, "history", "--format", "json")["history"]
    code, out, err = run("history")
    assert (code, err) == (0, "")
    expected = ["-" if s["layer_index"] is None else str(s["layer_index"]) for s in steps]
    assert _history_rows(out) == expected
    assert expected[:3] == ["-", "11", "10"]  # CMD, the chmod, the directory replace
    assert expected[-2:] == ["-", "0"]  # ENV, the base


def test_history_truncates_commands_unless_no_trunc(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    steps = json_of(run, "history", "--format", "json")["history"]
    # shown on one line with runs of white space collapsed, as docker history does
    longest = " ".join(max((s["created_by"] for s in steps), key=len).split())
    assert len(longest) > 100
    _code, short, _err = run("history")
    assert longest not in short
    assert "…" in short
    code, full, err = run("history", "--no-trunc")
    assert (code, err) == (0, "")
    assert longest in full


def test_history_json(run: Run) -> None:
    document = json_of(run, "history", "--format", "json")
    analyzed = json_of(run, "analyze", "--format", "json")
    assert document["schema_version"] == "1.2"
    assert document["image"]["reference"] == str(SAMPLE)
    steps = document["history"]
    assert len(steps) == 15
    indexes = [s["layer_index"] for s in steps if not s["empty_layer"]]
    assert indexes == list(range(11, -1, -1))
    assert all(s["layer_index"] is None and s["size_bytes"] == 0 for s in steps if s["empty_layer"])
    assert sum(s["size_bytes"] for s in steps) == analyzed["image"]["size_bytes"]
    for step in steps:
        assert set(step) >= {"created", "created_by", "comment", "empty_layer", "layer_index"}


def test_history_fits_a_normal_terminal(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _err = run("history")
    assert code == 0
    assert _history_rows(out)[:3] == ["-", "11", "10"]
    assert "49.2 kB" in out


# errors: exit 2 and one line on stderr


def _small_docker_archive(path: Path) -> Path:
    steps = [
        ("/bin/sh -c #(nop) ADD file:base in /", base_layer()),
        ("/bin/sh -c write /big.bin", LayerTar(2).file("big.bin", payload(300_000, seed=3))),
    ]
    return write_docker_archive(path, steps)


def _truncated_archive(tmp_path: Path) -> Path:
    archive = _small_docker_archive(tmp_path / "cut.docker.tar")
    with tarfile.open(archive) as outer:
        layer = max((m for m in outer if m.name.endswith(".tar")), key=lambda m: m.size)
    with open(archive, "r+b") as handle:
        handle.truncate(layer.offset_data + layer.size // 2)  # in the middle of the big layer
    return archive


def _text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not an image\n" * 100)
    return path


ERROR_CASES: dict[str, Callable[[Path], tuple[list[str], str]]] = {
    "missing path": lambda t: (["analyze", str(t / "nope.tar")], str(t / "nope.tar")),
    "missing path, docker-archive:": lambda t: (
        ["analyze", f"docker-archive:{t / 'nope.tar'}"],
        str(t / "nope.tar"),
    ),
    "missing path, history": lambda t: (["history", str(t / "nope.tar")], str(t / "nope.tar")),
    "text file": lambda t: (["analyze", str(_text_file(t))], str(t / "notes.txt")),
    "truncated docker tar": lambda t: (["analyze", str(_truncated_archive(t))], "cut.docker.tar"),
    "bad --platform": lambda t: (["analyze", "--platform", "linux", str(SAMPLE)], "'linux'"),
    "bad --platform, history": lambda t: (["history", "--platform", "a/b/c/d"], "'a/b/c/d'"),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_bad_input_exits_2_with_one_line(run: Run, tmp_path: Path, case: str) -> None:
    args, named = ERROR_CASES[case](tmp_path)
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bloatscope: error: ")
    assert named in lines[0]


def test_truncation_error_names_the_member_plainly(run: Run, tmp_path: Path) -> None:
    _code, _out, err = run("analyze", str(_truncated_archive(tmp_path)))
    assert "b'" not in err


def test_error_lines_escape_control_characters(run: Run, tmp_path: Path) -> None:
    _code, _out, err = run("analyze", str(tmp_path / "evil\x1b[31mred.tar"))
    assert "\x1b" not in err
    assert "evil\\x1b[31mred.tar" in err


def test_wrong_platform_is_an_error(run: Run) -> None:
    code, _out, err = run("analyze", "--platform", "linux/arm64", str(SAMPLE))
    assert code == 2
    assert "linux/amd64" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["analyze", "--no-such-option"],
        ["analyze", "--format", "xml"],
        ["analyze", "--top", "0"],
        ["analyze", "--workers", "many"],
        ["history", "--format", "dive-json"],
        ["analyze", "a.tar", "b.tar"],
    ],
    ids=lambda argv: " ".join(argv) or "(nothing)",
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("usage: bloatscope")


# python -m bloatscope: a real process, a real stdout


def test_module_runs_the_sample_without_colour() -> None:
    result = python_m("analyze", env=plain_env(NO_COLOR="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(SAMPLE).encode())
    assert b"\n2.55 MB in 12 layers, 1.67 MB compressed. 369 kB reclaimable" in result.stdout
    assert b"\x1b" not in result.stdout
    assert b"\x1b" not in result.stderr


def test_module_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nope.tar"
    result = python_m("analyze", str(missing), env=plain_env())
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == f"bloatscope: error: {missing}: no such file or directory\n"


def _on_a_terminal(env: dict[str, str]) -> bytes:
    """stdout on a pseudo-terminal, so the colour decision is the one a user's shell sees."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bloatscope", "analyze"],
            stdout=follower,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 0
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    return b"".join(chunks)


def test_terminal_gets_colour_by_default() -> None:
    # the control for the next test: on a terminal, styles are on
    assert SGR.search(_on_a_terminal(plain_env(TERM="xterm-256color")))


def test_no_color_on_a_terminal_writes_no_escapes() -> None:
    out = _on_a_terminal(plain_env(TERM="xterm-256color", NO_COLOR="1"))
    assert b"2.55 MB in 12 layers" in out
    assert b"\x1b" not in out


# untrusted names from the image


EVIL = "srv/evil\x1b[31mred"
EVIL_COMMAND = "/bin/sh -c printf '\x1b[2J' > /srv/evil\x1b[31mred"


@pytest.fixture
def evil_image(tmp_path: Path) -> Path:
    steps = [
        ("/bin/sh -c #(nop) ADD file:base in /", base_layer()),
        (EVIL_COMMAND, LayerTar(2).dir("srv").file(EVIL, payload(70_000, seed=4))),
        ("/bin/sh -c rewrite", LayerTar(3).file(EVIL, payload(60_000, seed=5))),
    ]
    return write_docker_archive(tmp_path / "evil.docker.tar", steps)


@pytest.mark.parametrize(
    "args",
    [
        ["analyze"],
        ["analyze", "--format", "json"],
        ["analyze", "--format", "dive-json"],
        ["history"],
        ["history", "--no-trunc"],
        ["history", "--format", "json"],
    ],
    ids=" ".join,
)
def test_escape_sequences_in_an_image_are_shown_escaped(
    run: Run, monkeypatch: pytest.MonkeyPatch, evil_image: Path, args: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    code, out, err = run(*args, str(evil_image))
    assert (code, err) == (0, "")
    assert "\x1b" not in out
    if args[-1] in ("json", "dive-json"):
        assert "evil\\u001b[31mred" in out
    elif args == ["history"]:
        assert "printf '\\x1b[2J'" in out  # the command, cut before the file name
    else:
        assert "evil\\x1b[31mred" in out  # visible, so the user sees the name is odd
    if args == ["analyze"]:
        # in the layer table's command, the largest files, and the overwritten finding: its
        # path and, under it, the command of the layer that shipped it
        assert out.count("/srv/evil\\x1b[31mred") == 4


def test_output_to_a_device_writes_to_it_and_never_replaces_it(
    tmp_path: Path, run: Callable[..., tuple[int, str, str]]
) -> None:
    """``-o /dev/null`` (as root) must not swap the device for a regular file: a twin of
    /dev/null made in the test directory stays a character device."""
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    code, _out, _err = run("analyze", "--quiet", "--format", "json", "--output", str(null))
    assert code == 0
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temporary file left
