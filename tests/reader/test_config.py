"""The image config: diff_ids, platform, runtime settings, and history mapped onto layers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bloatscope.errors import BloatscopeError
from bloatscope.model.image import Platform
from bloatscope.reader.config import map_history, parse_config
from bloatscope.reader.manifest import ManifestError
from bloatscope.reader.platforms import normalize, parse_platform
from synth import EMPTY_TAR, Image, Layer


def config(**fields: Any) -> bytes:
    raw = {"rootfs": {"type": "layers", "diff_ids": ["sha256:aa", "sha256:bb"]}, **fields}
    return json.dumps(raw).encode()


def test_history_maps_onto_layers_skipping_empty_steps() -> None:
    img = Image([Layer().file("a").build(), Layer().file("b").build()])
    parsed = parse_config(img.config(), "x")
    assert [(h.created_by, h.empty_layer, h.layer_index) for h in parsed.history] == [
        ("/bin/sh -c step-0", False, 0),
        ("/bin/sh -c #(nop) ENV A=1", True, None),
        ("/bin/sh -c step-1", False, 1),
        ('/bin/sh -c #(nop) CMD ["sh"]', True, None),
    ]
    assert parsed.warnings == ()
    assert parsed.diff_ids == tuple(img.diff_ids)


def test_zero_entry_layer_without_empty_layer_flag_still_gets_its_step() -> None:
    steps = [
        {"created_by": "RUN true"},
        {"created_by": "ENV X=1", "empty_layer": True},
        {"created_by": "RUN true"},
    ]
    history, warnings = map_history(steps, 2)
    assert [h.layer_index for h in history] == [0, None, 1]
    assert warnings == ()
    assert Image([EMPTY_TAR, EMPTY_TAR]).diff_ids[0] == Image([EMPTY_TAR]).diff_ids[0]


@pytest.mark.parametrize("empty", [None, False, 0])
def test_empty_layer_null_or_false_means_a_layer(empty: object) -> None:
    history, _ = map_history([{"created_by": "RUN x", "empty_layer": empty}], 1)
    assert history[0].layer_index == 0


def test_more_steps_than_layers_is_flagged_not_realigned() -> None:
    steps = [{"created_by": f"RUN {i}"} for i in range(3)]
    history, warnings = map_history(steps, 2)
    assert [h.layer_index for h in history] == [0, 1, None]
    assert warnings == (
        "history has 3 layer-producing steps for 2 layers; the step-to-layer mapping is unreliable",
    )


def test_fewer_steps_than_layers_is_flagged() -> None:
    history, warnings = map_history([{"created_by": "RUN 0"}], 3)
    assert [h.layer_index for h in history] == [0]
    assert "1 layer-producing steps for 3 layers" in warnings[0]


def test_no_history_at_all() -> None:
    parsed = parse_config(config(), "x")
    assert parsed.history == ()
    assert len(parsed.warnings) == 1


def test_null_optional_fields_are_absent() -> None:
    parsed = parse_config(
        config(
            created=None,
            config=None,
            history=None,
            os=None,
            architecture=None,
            container=None,
            docker_version=None,
        ),
        "x",
    )
    assert parsed.created is None
    assert parsed.platform == Platform("", "")
    assert parsed.config.env == ()


def test_runtime_config_fields() -> None:
    parsed = parse_config(
        config(
            os="linux",
            architecture="arm64",
            variant="v8",
            created="1970-01-01T00:00:00Z",
            config={
                "Env": ["A=1"],
                "Entrypoint": "/init",
                "Cmd": ["sh", "-c", "x"],
                "WorkingDir": "/app",
                "User": "1000",
                "Labels": {"b": "2", "a": "1"},
            },
        ),
        "x",
    )
    assert parsed.platform == Platform("linux", "arm64", "")
    assert parsed.created == "1970-01-01T00:00:00Z"
    assert parsed.config.entrypoint == ("/init",)
    assert parsed.config.cmd == ("sh", "-c", "x")
    assert parsed.config.labels == (("a", "1"), ("b", "2"))
    assert (parsed.config.working_dir, parsed.config.user) == ("/app", "1000")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"{", "image config is not valid JSON"),
        (b"[]", "image config is not a JSON object"),
        (b'{"rootfs": {"type": "snapshot"}}', "rootfs type is 'snapshot', not 'layers'"),
        (b"{}", "rootfs type is None, not 'layers'"),
        (b"\xff\xfe", "image config is not valid JSON"),
    ],
)
def test_bad_config(data: bytes, problem: str) -> None:
    with pytest.raises(ManifestError, match=problem) as caught:
        parse_config(data, "img.tar")
    assert str(caught.value).startswith("img.tar: ")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("linux", "x86_64"), Platform("linux", "amd64")),
        (("linux", "amd64", "v1"), Platform("linux", "amd64")),
        (("linux", "aarch64"), Platform("linux", "arm64")),
        (("linux", "arm64", "v8"), Platform("linux", "arm64")),
        (("linux", "arm"), Platform("linux", "arm", "v7")),
        (("linux", "arm", "6"), Platform("linux", "arm", "v6")),
        (("linux", "armhf"), Platform("linux", "arm", "v7")),
        (("linux", "armel"), Platform("linux", "arm", "v6")),
        (("linux", "i386"), Platform("linux", "386")),
        (("Linux", "AMD64"), Platform("linux", "amd64")),
    ],
)
def test_platform_normalization(args: tuple[str, ...], expected: Platform) -> None:
    assert normalize(*args) == expected


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "a/b/c/d", ""])
def test_bad_platform_string(text: str) -> None:
    with pytest.raises(BloatscopeError, match="is not os/arch or os/arch/variant"):
        parse_platform(text)
