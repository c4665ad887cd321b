"""Tiny docker-archives for dive-parity probes, laid out as skopeo writes them.

``<diffid>.tar`` layers, ``<config-sha>.json`` with rootfs.diff_ids and history, and
manifest.json. The probes are the ones of docs/dive-reference.md §1.3, each with the numbers
that table gives for dive 0.13.1.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


class LayerTar:
    """One layer tar built in memory; methods chain. Every member gets the same ``mtime`` so
    that two layers with the same members still differ when their mtimes differ."""

    def __init__(self, mtime: int = 0) -> None:
        self.mtime = mtime
        self.members: list[tuple[tarfile.TarInfo, bytes]] = []

    def _add(
        self, name: str, kind: bytes, mode: int, data: bytes = b"", **attrs: object
    ) -> LayerTar:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.mtime = self.mtime
        info.size = len(data)
        for key, value in attrs.items():
            setattr(info, key, value)
        self.members.append((info, data))
        return self

    def file(
        self, name: str, data: bytes, *, mode: int = 0o644, uid: int = 0, gid: int = 0
    ) -> LayerTar:
        return self._add(name, tarfile.REGTYPE, mode, data, uid=uid, gid=gid)

    def dir(self, name: str, *, mode: int = 0o755) -> LayerTar:
        return self._add(name, tarfile.DIRTYPE, mode)

    def symlink(self, name: str, target: str) -> LayerTar:
        return self._add(name, tarfile.SYMTYPE, 0o777, linkname=target)

    def hardlink(self, name: str, target: str) -> LayerTar:
        return self._add(name, tarfile.LNKTYPE, 0o644, linkname=target)

    def whiteout(self, path: str) -> LayerTar:
        parent, _, base = path.rpartition("/")
        return self.file(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"", mode=0)

    def opaque(self, directory: str) -> LayerTar:
        return self.file(f"{directory}/.wh..wh..opq", b"", mode=0)

    def build(self) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in self.members:
                tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()


Step = tuple[str, LayerTar | None]  # (created_by, layer); no layer: an empty_layer history step


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_docker_archive(path: Path, steps: Sequence[Step], tag: str = "probe:latest") -> Path:
    """A skopeo-style docker-archive: ``<diffid>.tar`` layers, ``<sha>.json`` config, manifest."""
    layers = [layer.build() for _cmd, layer in steps if layer is not None]
    diff_ids = [_sha256(layer) for layer in layers]
    history = []
    for created_by, layer in steps:
        entry: dict[str, object] = {"created": "1970-01-01T00:00:00Z", "created_by": created_by}
        if layer is None:
            entry["empty_layer"] = True
        history.append(entry)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in diff_ids]},
            "history": history,
        }
    ).encode()
    config_name = f"{_sha256(config)}.json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{d}.tar" for d in diff_ids]}]
    ).encode()
    members = [(f"{d}.tar", layer) for d, layer in zip(diff_ids, layers, strict=True)]
    members += [(config_name, config), ("manifest.json", manifest)]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as outer:
        for name, data in dict(members).items():  # a repeated layer is stored once
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o444
            outer.addfile(info, io.BytesIO(data))
    return path


def base_layer() -> LayerTar:
    """The probes' base: ``/etc/base``, 5000 bytes."""
    return LayerTar(mtime=1).dir("etc").file("etc/base", payload(5000, seed=1))


@dataclass(frozen=True)
class Probe:
    """A probe image and dive's numbers for it, from docs/dive-reference.md §1.3."""

    name: str
    steps: Callable[[], list[Step]]
    efficiency: str  # as the table prints it; compared to that many decimals
    wasted_bytes: int
    inefficient: list[tuple[int, int, str]] = field(default_factory=list)  # count, bytes, path

    def write(self, directory: Path) -> Path:
        steps: list[Step] = [("/bin/sh -c #(nop) ADD file:base in /", base_layer())]
        steps += self.steps()
        return write_docker_archive(directory / f"{self.name}.docker.tar", steps)


def _identical() -> list[Step]:
    data = payload(1000, seed=2)
    return [
        ("/bin/sh -c #(nop) ENV A=1", None),
        ("COPY f /f", LayerTar(2).file("f", data)),
        ("COPY f /f", LayerTar(3).file("f", data)),
    ]


def _modeonly() -> list[Step]:
    data = payload(1000, seed=3)
    return [
        ("RUN write /m", LayerTar(2).file("m", data)),
        ("RUN chmod 600 /m", LayerTar(3).file("m", data, mode=0o600)),
        ("RUN chown 1000 /m", LayerTar(4).file("m", data, mode=0o600, uid=1000)),
    ]


def _filedelete() -> list[Step]:
    return [
        ("RUN write /f", LayerTar(2).file("f", payload(1000, seed=4))),
        ("RUN rm /f", LayerTar(3).whiteout("f")),
    ]


def _dirdelete() -> list[Step]:
    return [
        (
            "RUN mkdir /d && write /d/x /d/y",
            LayerTar(2).dir("d").file("d/x", payload(100, 5)).file("d/y", payload(200, 6)),
        ),
        ("RUN rm -rf /d", LayerTar(3).whiteout("d")),
    ]


def _opaque() -> list[Step]:
    return [
        ("RUN mkdir /o && write /o/old", LayerTar(2).dir("o").file("o/old", payload(400, 7))),
        (
            "RUN rm -rf /o && mkdir /o && write /o/new",
            LayerTar(3).dir("o").opaque("o").file("o/new", payload(50, 8)),
        ),
    ]


def _hardlink() -> list[Step]:
    first = (
        LayerTar(2)
        .dir("h")
        .file("h/orig", payload(300, 9))
        .hardlink("h/link", "h/orig")
        .symlink("h/sym", "orig")
    )
    # no h/ entry: dive gives the implied parent an empty FileInfo
    return [
        ("RUN make /h", first),
        ("RUN ln -sf link /h/sym", LayerTar(3).symlink("h/sym", "link")),
    ]


def _emptydirs() -> list[Step]:
    return [
        ("RUN true", LayerTar(2).dir("etc").dir("tmp", mode=0o1777)),
        ("RUN true", LayerTar(3).dir("etc").dir("tmp", mode=0o1777)),
    ]


def _ghostwhiteout() -> list[Step]:
    return [
        ("RUN write /zzz", LayerTar(2).file("zzz", payload(77, 10))),
        (
            "RUN rm -f /aaa-never-existed && write /zzz",
            LayerTar(3).whiteout("aaa-never-existed").file("zzz", payload(77, 11)),
        ),
    ]


PROBES = [
    Probe("identical", _identical, "0.857", 2000, [(2, 2000, "/f")]),
    Probe("modeonly", _modeonly, "0.75", 3000, [(3, 3000, "/m")]),
    Probe("filedelete", _filedelete, "0.833", 1000, [(2, 1000, "/f")]),
    Probe("dirdelete", _dirdelete, "1.0", 0),
    Probe("opaque", _opaque, "1.0", 0),
    Probe("hardlink", _hardlink, "1.0", 0, [(2, 0, "/h/sym")]),
    Probe("emptydirs", _emptydirs, "1.0", 0, [(2, 0, "/tmp"), (2, 0, "/etc")]),
    Probe("ghostwhiteout", _ghostwhiteout, "0.99980", 0),
    Probe("single", list, "1.0", 0),
]
