"""From a store's JSON to a plan: docker-archive items and tags; OCI indexes, nesting,
platforms, attestations, artifacts, digests and sizes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bloatscope.reader.manifest import (
    ImagePlan,
    ManifestError,
    blob_name,
    plan_docker_archive,
    plan_oci_layout,
)
from bloatscope.sources.directory import DirectoryStore
from bloatscope.sources.tar_archive import TarArchiveStore
from synth import (
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
    Layer,
    digest,
    oci_layout,
    sha256_hex,
    write_dir,
    write_legacy_docker_archive,
    write_skopeo_archive,
    write_tar,
)


def image(arch: str = "amd64", variant: str = "", tag: str = "synth:latest") -> Image:
    layer = Layer().file(f"arch-{arch}{variant}", arch.encode()).build()
    return Image([layer], architecture=arch, variant=variant, tag=tag)


def oci_plan(
    tmp_path: Path, files: dict[str, bytes], platform: str | None = None, selector: str = ""
) -> ImagePlan:
    store = DirectoryStore(str(write_dir(tmp_path / "layout", files)))
    return plan_oci_layout(store, selector, platform, "oci-dir")


def arch_of(plan: ImagePlan) -> str:
    return str(json.loads(plan.config_bytes)["architecture"])


def rewrite_index(files: dict[str, bytes], change: Any) -> dict[str, bytes]:
    index = json.loads(files["index.json"])
    change(index)
    return {**files, "index.json": json.dumps(index).encode()}


# --- docker-archive -------------------------------------------------------------------------


def test_docker_archive_plan_lists_layers_in_order(tmp_path: Path) -> None:
    img = Image([Layer().file("a").build(), Layer().file("b").build()])
    store = TarArchiveStore(str(write_skopeo_archive(tmp_path / "x.tar", img)))
    plan = plan_docker_archive(store, "")
    assert [layer.blob_name for layer in plan.layers] == [
        d.removeprefix("sha256:") + ".tar" for d in img.diff_ids
    ]
    assert plan.config_bytes == img.config()
    assert plan.repo_tags == ("docker.io/library/synth:latest", "localhost/synth:latest")
    assert not plan.verify_blobs


def test_docker_archive_with_the_same_layer_twice_keeps_both(tmp_path: Path) -> None:
    layer = Layer().file("same").build()
    store = TarArchiveStore(
        str(write_legacy_docker_archive(tmp_path / "x.tar", Image([layer, layer])))
    )
    plan = plan_docker_archive(store, "")
    assert len(plan.layers) == 2
    refs = [store.locate(layer.blob_name) for layer in plan.layers]
    assert refs[0].offset == refs[1].offset  # the second is a symlink to the first copy


def two_image_archive(tmp_path: Path) -> TarArchiveStore:
    first, second = image("amd64", tag="one:1.0"), image("arm64", tag="two:latest")
    files = []
    items = []
    for img in (first, second):
        config = img.config()
        name = sha256_hex(config) + ".json"
        layer = img.diff_ids[0].removeprefix("sha256:") + ".tar"
        files += [(name, config), (layer, img.layers[0])]
        items.append(
            {"Config": name, "RepoTags": [f"docker.io/library/{img.tag}"], "Layers": [layer]}
        )
    files.append(("manifest.json", json.dumps(items).encode()))
    return TarArchiveStore(str(write_tar(tmp_path / "two.tar", files)))


def test_docker_archive_with_two_images_needs_a_tag(tmp_path: Path) -> None:
    store = two_image_archive(tmp_path)
    with pytest.raises(
        ManifestError,
        match=r"holds 2 images \(docker.io/library/one:1.0, "
        r"docker.io/library/two:latest\); name one",
    ):
        plan_docker_archive(store, "")


@pytest.mark.parametrize(
    ("selector", "arch"),
    [
        ("one:1.0", "amd64"),
        ("two", "arm64"),
        ("two:latest", "arm64"),
        ("docker.io/library/one:1.0", "amd64"),
        ("library/two:latest", "arm64"),
    ],
)
def test_docker_archive_tag_selects_an_image(tmp_path: Path, selector: str, arch: str) -> None:
    assert arch_of(plan_docker_archive(two_image_archive(tmp_path), selector)) == arch


def test_docker_archive_unknown_tag(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="has no image tagged 'three'"):
        plan_docker_archive(two_image_archive(tmp_path), "three")


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        (b"{}", "manifest.json is not a non-empty list"),
        (b"[]", "manifest.json is not a non-empty list"),
        (b'[{"Layers": []}]', "lacks Config or Layers"),
        (b'[{"Config": "c.json", "Layers": "x"}]', "lacks Config or Layers"),
        (b'[{"Con', "manifest.json is not valid JSON"),
    ],
)
def test_docker_archive_bad_manifest(tmp_path: Path, manifest: bytes, problem: str) -> None:
    store = TarArchiveStore(str(write_tar(tmp_path / "x.tar", [("manifest.json", manifest)])))
    with pytest.raises(ManifestError, match=problem) as caught:
        plan_docker_archive(store, "")
    assert str(caught.value).startswith(str(tmp_path / "x.tar"))


def test_docker_archive_config_named_by_digest_is_checked(tmp_path: Path) -> None:
    wrong = sha256_hex(b"something else") + ".json"
    manifest = json.dumps([{"Config": wrong, "Layers": []}]).encode()
    store = TarArchiveStore(
        str(write_tar(tmp_path / "x.tar", [(wrong, image().config()), ("manifest.json", manifest)]))
    )
    with pytest.raises(ManifestError, match=f"{wrong} does not match its digest"):
        plan_docker_archive(store, "")


# --- OCI layouts ----------------------------------------------------------------------------


def test_single_manifest_plan(tmp_path: Path) -> None:
    img = image()
    layout = oci_layout([img])
    plan = oci_plan(tmp_path, layout.files)
    assert plan.config_bytes == img.config()
    assert [layer.digest for layer in plan.layers] == layout.layer_blobs
    assert plan.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert plan.layers[0].size == len(layout.files["blobs/sha256/" + layout.layer_blobs[0][7:]])
    assert plan.verify_blobs
    assert plan.repo_tags == ("synth:latest",)


def test_nested_index_is_followed(tmp_path: Path) -> None:
    files = oci_layout([image()], nested=True).files
    index = json.loads(files["index.json"])
    assert index["manifests"][0]["mediaType"] == OCI_INDEX
    assert arch_of(oci_plan(tmp_path, files)) == "amd64"


def test_attestation_manifest_is_skipped(tmp_path: Path) -> None:
    files = oci_layout([image("arm64")], nested=True, attestation=True).files
    assert arch_of(oci_plan(tmp_path, files)) == "arm64"


def test_attestation_without_annotation_is_skipped_by_platform(tmp_path: Path) -> None:
    files = oci_layout([image()], attestation=True).files

    def strip(index: dict[str, Any]) -> None:
        for descriptor in index["manifests"]:
            descriptor["annotations"].pop("vnd.docker.reference.type", None)

    assert arch_of(oci_plan(tmp_path, rewrite_index(files, strip))) == "amd64"


def multi_platform() -> dict[str, bytes]:
    images = [image("amd64"), image("arm64"), image("arm", "v7"), image("arm", "v6")]
    return oci_layout(images, nested=True, attestation=True).files


def test_several_platforms_without_a_choice_list_them(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        oci_plan(tmp_path, multi_platform())
    message = str(caught.value)
    assert (
        "holds several platforms (linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6)" in message
    )
    assert "--platform" in message
    assert "unknown" not in message  # attestations are not offered as platforms


@pytest.mark.parametrize(
    ("platform", "arch"),
    [
        ("linux/arm64", "arm64"),
        ("linux/aarch64", "arm64"),
        ("linux/arm64/v8", "arm64"),
        ("linux/amd64", "amd64"),
        ("linux/x86_64", "amd64"),
        ("linux/arm/v6", "arm"),
        ("linux/arm", "arm"),
    ],
)
def test_platform_selects_a_manifest(tmp_path: Path, platform: str, arch: str) -> None:
    assert arch_of(oci_plan(tmp_path, multi_platform(), platform)) == arch


def test_platform_variant_is_respected(tmp_path: Path) -> None:
    assert (
        json.loads(oci_plan(tmp_path, multi_platform(), "linux/arm/v6").config_bytes)["variant"]
        == "v6"
    )
    assert (
        json.loads(oci_plan(tmp_path / "b", multi_platform(), "linux/arm").config_bytes)["variant"]
        == "v7"
    )


def test_missing_platform_lists_what_there_is(tmp_path: Path) -> None:
    with pytest.raises(
        ManifestError,
        match=r"has no linux/s390x image \(it has linux/amd64, "
        r"linux/arm64, linux/arm/v7, linux/arm/v6\)",
    ):
        oci_plan(tmp_path, multi_platform(), "linux/s390x")


def test_selector_matches_the_ref_name(tmp_path: Path) -> None:
    one = oci_layout([image("amd64")], ref_name="app:1").files
    two = oci_layout([image("arm64")], ref_name="app:2").files
    index = json.loads(one["index.json"])
    index["manifests"] += json.loads(two["index.json"])["manifests"]
    files = {**one, **two, "index.json": json.dumps(index).encode()}
    assert arch_of(oci_plan(tmp_path, files, selector="app:2")) == "arm64"
    with pytest.raises(ManifestError, match="has no image named 'app:3'"):
        oci_plan(tmp_path / "b", files, selector="app:3")


def test_unknown_media_types_in_the_index_are_skipped(tmp_path: Path) -> None:
    files = oci_layout([image()]).files

    def add_signature(index: dict[str, Any]) -> None:
        index["manifests"].append(
            {
                "mediaType": "application/vnd.dev.cosign.signature",
                "digest": digest(b"sig"),
                "size": 3,
            }
        )

    assert arch_of(oci_plan(tmp_path, rewrite_index(files, add_signature))) == "amd64"


def test_artifact_manifest_is_not_an_image(tmp_path: Path) -> None:
    empty = b"{}"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/x-sbom",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": digest(empty),
                "size": 2,
            },
            "layers": [],
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest)}
        ],
    }
    files = {
        "oci-layout": b"{}",
        "index.json": json.dumps(index).encode(),
        blob_name(digest(manifest)): manifest,
        blob_name(digest(empty)): empty,
    }
    with pytest.raises(ManifestError, match="is an OCI artifact, not a container image"):
        oci_plan(tmp_path, files)


def test_index_nested_too_deep_is_an_error(tmp_path: Path) -> None:
    files = oci_layout([image()]).files
    inner = json.loads(files["index.json"])["manifests"]
    for _ in range(12):
        blob = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": inner}).encode()
        files[blob_name(digest(blob))] = blob
        inner = [{"mediaType": OCI_INDEX, "digest": digest(blob), "size": len(blob)}]
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": inner}).encode()
    with pytest.raises(ManifestError, match="nests too deeply or loops"):
        oci_plan(tmp_path, files)


@pytest.mark.parametrize(
    ("index", "problem"),
    [
        (b"{}", "index.json lists no manifests"),
        (b'{"manifests": null}', "index.json lists no manifests"),
        (b'{"manifests": []}', "index.json lists no manifests"),
        (b"[1, 2]", "index.json lists no manifests"),
        (b"{", "index.json is not valid JSON"),
        (b'{"manifests": [{"mediaType": "application/x-unknown"}]}', "has no image manifest"),
    ],
)
def test_bad_index(tmp_path: Path, index: bytes, problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        oci_plan(tmp_path, {"oci-layout": b"{}", "index.json": index})


def test_manifest_blob_of_the_wrong_size(tmp_path: Path) -> None:
    files = oci_layout([image()]).files
    descriptor = json.loads(files["index.json"])["manifests"][0]
    name = blob_name(descriptor["digest"])
    files[name] += b"\n"
    size = descriptor["size"]
    expected = f"{name} is {size + 1} bytes, its descriptor says {size}"
    with pytest.raises(ManifestError, match=expected):
        oci_plan(tmp_path, files)


def test_manifest_blob_with_right_size_but_wrong_bytes(tmp_path: Path) -> None:
    files = oci_layout([image()]).files
    name = blob_name(json.loads(files["index.json"])["manifests"][0]["digest"])
    files[name] = files[name].replace(b'"schemaVersion": 2', b'"schemaVersion": 3')
    with pytest.raises(ManifestError, match=f"{name} does not match its digest"):
        oci_plan(tmp_path, files)


def test_config_blob_not_matching_its_digest(tmp_path: Path) -> None:
    img = image()
    files = oci_layout([img]).files
    config_name = blob_name(digest(img.config()))
    files[config_name] = files[config_name].replace(b"amd64", b"arm64")
    with pytest.raises(ManifestError, match=f"{config_name} does not match its digest"):
        oci_plan(tmp_path, files)


@pytest.mark.parametrize(
    "bad", ["sha256", "sha256:", ":abc", "sha256:../../etc/passwd", "sha256:a/b"]
)
def test_malformed_digest(bad: str) -> None:
    with pytest.raises(ManifestError, match="malformed digest"):
        blob_name(bad)


def test_unknown_digest_algorithm_that_fits_the_grammar() -> None:
    assert blob_name("blake3:abcd") == "blobs/blake3/abcd"


def test_foreign_layers_are_marked(tmp_path: Path) -> None:
    files = oci_layout([image()]).files
    manifest_name = blob_name(json.loads(files["index.json"])["manifests"][0]["digest"])
    manifest = json.loads(files[manifest_name])
    manifest["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    raw = json.dumps(manifest).encode()
    files[blob_name(digest(raw))] = raw
    files["index.json"] = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest(raw), "size": len(raw)}],
        }
    ).encode()
    assert oci_plan(tmp_path, files).layers[0].foreign
