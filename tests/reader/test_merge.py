"""Applying layers in order (OCI layer.md, image-formats.md §4 and §7): whiteouts, opaque
directories, hardlinks, symlinked parents, replacements, and dive's per-entry diff states."""

from __future__ import annotations

import pytest

from bloatscope.errors import BloatscopeError
from bloatscope.model.entry import EntryType, FileEntry
from bloatscope.model.tree import DiffState, FileSystem, FsNode, LayerChanges
from bloatscope.reader.merge import Merger, SymlinkLoopError
from synth import Layer, entries


class Stack:
    """Layers applied one after another, base first."""

    def __init__(self, *layers: Layer) -> None:
        self.merger = Merger()
        self.changes: list[LayerChanges] = []
        self.entries: list[tuple[FileEntry, ...]] = []
        for layer in layers:
            self.add(layer)

    def add(self, layer: Layer) -> LayerChanges:
        found = entries(layer)
        self.entries.append(found)
        change = self.merger.apply(len(self.changes), found)
        self.changes.append(change)
        return change

    @property
    def fs(self) -> FileSystem:
        return self.merger.filesystem()

    def node(self, path: str) -> FsNode:
        node = self.fs.get(path)
        assert node is not None, f"{path} is missing"
        return node

    def files(self) -> dict[str, int]:
        """Every non-directory path of the final tree with the layer whose entry it shows."""
        return {path: node.layer for path, node in self.fs.walk() if not node.is_dir}

    def paths(self) -> set[str]:
        return {path for path, _node in self.fs.walk()}

    def content_path(self, path: str) -> str | None:
        """The path of the layer entry whose bytes ``path`` shows."""
        content = self.node(path).content
        return None if content is None else self.entries[content[0]][content[1]].path

    def states(self, layer: int) -> dict[str, DiffState]:
        return {
            e.path: DiffState(s)
            for e, s in zip(self.entries[layer], self.changes[layer].states, strict=True)
        }


def base_with_dir() -> Layer:
    return Layer().dir("d").file("d/a", b"a").file("d/b", b"b").dir("d/sub").file("d/sub/x", b"x")


# --- whiteouts ------------------------------------------------------------------------------


def test_per_file_whiteouts_vfs_style() -> None:
    stack = Stack(base_with_dir(), Layer().dir("d").whiteout("d/a").whiteout("d/sub"))
    assert stack.paths() == {"d", "d/b"}
    assert stack.changes[1].removed_paths == ("d/a", "d/sub", "d/sub/x")


def test_vfs_rm_and_mkdir_removes_old_children_keeps_new() -> None:
    upper = Layer().dir("d").whiteout("d/a").whiteout("d/b").whiteout("d/sub").file("d/y", b"y")
    stack = Stack(base_with_dir(), upper)
    assert stack.paths() == {"d", "d/y"}


def test_opaque_directory_overlay_style() -> None:
    upper = Layer().dir("d").opaque("d").file("d/new", b"n")
    stack = Stack(base_with_dir(), upper)
    assert stack.paths() == {"d", "d/new"}
    assert set(stack.changes[1].removed_paths) == {"d/a", "d/b", "d/sub", "d/sub/x"}


def test_opaque_applies_first_whatever_its_position() -> None:
    upper = Layer().dir("d").file("d/new", b"n").file("d/a", b"again").opaque("d")
    stack = Stack(base_with_dir(), upper)
    assert stack.paths() == {"d", "d/new", "d/a"}
    assert stack.node("d/a").layer == 1


def test_opaque_at_the_root() -> None:
    stack = Stack(base_with_dir().file("top", b"t"), Layer().file(".wh..wh..opq").file("only"))
    assert stack.paths() == {"only"}


def test_opaque_of_a_directory_no_lower_layer_has() -> None:
    stack = Stack(base_with_dir(), Layer().dir("fresh").opaque("fresh").file("fresh/x"))
    assert stack.paths() == {"d", "d/a", "d/b", "d/sub", "d/sub/x", "fresh", "fresh/x"}
    assert stack.changes[1].removed_paths == ()


@pytest.mark.parametrize("order", ["whiteout-first", "whiteout-last"])
def test_whiteout_of_dir_and_new_child_in_one_layer_keeps_the_child(order: str) -> None:
    upper = Layer()
    if order == "whiteout-first":
        upper.whiteout("d").dir("d").file("d/new", b"n")
    else:
        upper.dir("d").file("d/new", b"n").whiteout("d")
    stack = Stack(base_with_dir(), upper)
    assert stack.paths() == {"d", "d/new"}


@pytest.mark.parametrize("order", ["whiteout-first", "whiteout-last"])
def test_file_and_its_whiteout_in_one_layer_keep_the_file(order: str) -> None:
    upper = Layer()
    if order == "whiteout-first":
        upper.whiteout("x").file("x", b"new")
    else:
        upper.file("x", b"new").whiteout("x")
    stack = Stack(Layer().file("x", b"old"), upper)
    assert stack.files() == {"x": 1}
    assert stack.node("x").content == (1, 1 if order == "whiteout-first" else 0)


def test_whiteout_of_a_missing_path_does_nothing() -> None:
    stack = Stack(Layer().file("a"), Layer().whiteout("nothing").whiteout("no/such/dir"))
    assert stack.paths() == {"a"}
    assert stack.changes[1].removed_paths == ()


def test_whiteout_through_a_symlinked_parent() -> None:
    stack = Stack(
        Layer().dir("real").file("real/f").symlink("lnk", "real"), Layer().whiteout("lnk/f")
    )
    assert "real/f" not in stack.paths()
    assert stack.changes[1].removed_paths == ("real/f",)


def test_whiteout_of_a_symlink_removes_the_link_not_its_target() -> None:
    stack = Stack(
        Layer().dir("real").file("real/f").symlink("lnk", "real"), Layer().whiteout("lnk")
    )
    assert stack.paths() == {"real", "real/f"}


def test_aufs_metadata_is_not_a_deletion() -> None:
    stack = Stack(Layer().file("plnk"), Layer().file(".wh..wh.plnk/1.2").file(".wh..wh.aufs"))
    assert "plnk" in stack.paths()
    assert stack.changes[1].removed_paths == ()


def test_whiteouts_are_never_visible_and_count_as_removed() -> None:
    stack = Stack(Layer().file("gone"), Layer().whiteout("gone"))
    assert stack.paths() == set()
    assert stack.states(1) == {".wh.gone": DiffState.REMOVED}
    assert stack.changes[1].removed == 1


def test_bare_whiteout_is_warned_about() -> None:
    stack = Stack(Layer().file("a"), Layer().file("dir/.wh."))
    assert any("bare whiteout" in w for w in stack.merger.warnings)


# --- hardlinks ------------------------------------------------------------------------------


def test_hardlink_in_the_same_layer_shares_content() -> None:
    stack = Stack(Layer().file("a", b"data").hardlink("b", "a"))
    assert stack.node("b").content == stack.node("a").content == (0, 0)
    assert stack.node("b").size == 0  # the bytes are counted once, on the file


def test_hardlink_to_a_lower_layer_file() -> None:
    stack = Stack(
        Layer().dir("usr").file("usr/gunzip", b"gz" * 100),
        Layer().hardlink("usr/uncompress", "usr/gunzip"),
    )
    assert stack.node("usr/uncompress").content == (0, 1)
    assert stack.merger.warnings == []


def test_hardlink_keeps_content_after_its_target_is_whited_out() -> None:
    stack = Stack(
        Layer().file("target", b"payload"),
        Layer().hardlink("link", "target"),
        Layer().whiteout("target"),
    )
    assert stack.paths() == {"link"}
    assert stack.node("link").content == (0, 0)
    assert stack.content_path("link") == "target"


def test_hardlink_keeps_the_content_it_had_when_applied() -> None:
    stack = Stack(Layer().file("t", b"v1"), Layer().hardlink("l", "t"), Layer().file("t", b"v2"))
    assert stack.node("l").content == (0, 0)
    assert stack.node("t").content == (2, 0)


def test_hardlink_through_a_symlinked_directory() -> None:
    stack = Stack(
        Layer().dir("real").file("real/f", b"x").symlink("lnk", "real"),
        Layer().hardlink("h", "lnk/f"),
    )
    assert stack.node("h").content == (0, 1)


def test_dangling_hardlink_is_warned_about() -> None:
    stack = Stack(Layer().hardlink("h", "missing"))
    assert stack.node("h").content is None
    assert stack.merger.warnings == ["layer 0: hardlink h -> missing is dangling"]


# --- symlinks and paths ---------------------------------------------------------------------


def test_entry_under_a_symlinked_parent_lands_in_the_real_directory() -> None:
    stack = Stack(Layer().dir("real").symlink("lnk", "real"), Layer().file("lnk/inside", b"i"))
    assert stack.paths() == {"real", "real/inside", "lnk"}
    assert stack.node("lnk").entry is not None
    assert stack.node("lnk").entry.typeflag == EntryType.SYMLINK  # type: ignore[union-attr]


def test_symlink_chains_and_relative_targets() -> None:
    base = Layer().dir("usr").dir("usr/lib").symlink("lib", "usr/lib").symlink("usr/l2", "../lib")
    stack = Stack(base, Layer().file("usr/l2/libc.so", b"c"))
    assert "usr/lib/libc.so" in stack.paths()


@pytest.mark.parametrize("target", ["/../../etc", "/etc", "../../../../etc", "./../etc"])
def test_symlinks_never_resolve_outside_the_root(target: str) -> None:
    stack = Stack(
        Layer().dir("etc").dir("sub").symlink("sub/esc", target),
        Layer().file("sub/esc/passwd", b"evil"),
    )
    assert {p for p in stack.paths() if p.endswith("passwd")} == {"etc/passwd"}


def test_absolute_symlink_resolves_against_the_image_root() -> None:
    stack = Stack(
        Layer().dir("opt").dir("opt/app").symlink("opt/cur", "/opt/app"),
        Layer().file("opt/cur/bin", b"b"),
    )
    assert "opt/app/bin" in stack.paths()


def test_symlink_loop_is_an_error() -> None:
    stack = Stack(Layer().symlink("a", "b").symlink("b", "a"))
    with pytest.raises(SymlinkLoopError, match="symlink loop"):
        stack.add(Layer().file("a/x"))
    assert issubclass(SymlinkLoopError, BloatscopeError)


def test_self_referencing_symlink_is_an_error() -> None:
    stack = Stack(Layer().symlink("self", "self/x"))
    with pytest.raises(SymlinkLoopError):
        stack.add(Layer().file("self/y"))


def test_traversal_names_stay_inside_the_root() -> None:
    stack = Stack(
        Layer().dir("etc").file("etc/passwd", b"root"),
        Layer().file("../../etc/passwd", b"evil").file("/abs", b"a").file("./dot", b"d"),
    )
    assert stack.paths() == {"etc", "etc/passwd", "abs", "dot"}
    assert stack.node("etc/passwd").layer == 1


# --- replacement ----------------------------------------------------------------------------


def test_duplicate_path_in_one_layer_last_wins() -> None:
    stack = Stack(Layer().file("dup", b"first").file("dup", b"second, longer"))
    assert stack.node("dup").content == (0, 1)
    assert stack.node("dup").size == len(b"second, longer")


def test_directory_replaced_by_a_file_drops_its_subtree() -> None:
    stack = Stack(base_with_dir(), Layer().file("d", b"now a file"))
    assert stack.paths() == {"d"}
    assert not stack.node("d").is_dir


def test_directory_replaced_by_a_symlink_drops_its_subtree() -> None:
    stack = Stack(base_with_dir().dir("elsewhere"), Layer().symlink("d", "elsewhere"))
    assert stack.paths() == {"d", "elsewhere"}


def test_file_replaced_by_a_directory() -> None:
    stack = Stack(Layer().file("x", b"f"), Layer().dir("x").file("x/child"))
    assert stack.paths() == {"x", "x/child"}
    assert stack.node("x").is_dir


def test_file_used_as_a_parent_becomes_a_directory_with_a_warning() -> None:
    stack = Stack(Layer().file("x", b"f"), Layer().file("x/child"))
    assert stack.paths() == {"x", "x/child"}
    assert any("x was a file" in w for w in stack.merger.warnings)


def test_directory_over_directory_keeps_children_and_takes_new_attributes() -> None:
    stack = Stack(base_with_dir(), Layer().dir("d", mode=0o700, uid=1000))
    assert stack.paths() == {"d", "d/a", "d/b", "d/sub", "d/sub/x"}
    entry = stack.node("d").entry
    assert entry is not None
    assert (entry.mode, entry.uid) == (0o700, 1000)


def test_parent_cache_follows_a_replaced_symlink_in_the_same_layer() -> None:
    upper = Layer().file("lnk/x", b"via link").dir("lnk").file("lnk/y", b"in the new dir")
    stack = Stack(Layer().dir("real").symlink("lnk", "real"), upper)
    assert stack.paths() == {"real", "real/x", "lnk", "lnk/y"}


def test_parent_cache_follows_a_replaced_empty_directory() -> None:
    upper = Layer().dir("a").dir("a/b").symlink("a/b", "/tgt").file("a/b/f")
    stack = Stack(Layer().dir("tgt"), upper)
    assert "tgt/f" in stack.paths()
    assert "a/b/f" not in stack.paths()


# --- diff states ----------------------------------------------------------------------------


def test_new_file_is_added() -> None:
    stack = Stack(Layer().file("a"), Layer().file("b", b"new"))
    assert stack.states(1) == {"b": DiffState.ADDED}
    assert stack.changes[1].added == 1


def test_chmod_only_is_modified() -> None:
    stack = Stack(
        Layer().file("blob", b"x" * 100, mode=0o644), Layer().file("blob", b"x" * 100, mode=0o600)
    )
    assert stack.states(1) == {"blob": DiffState.MODIFIED}


def test_chown_only_is_modified() -> None:
    stack = Stack(Layer().file("f", b"x"), Layer().file("f", b"x", uid=1234, gid=5678))
    assert stack.states(1) == {"f": DiffState.MODIFIED}


def test_identical_re_add_is_unmodified() -> None:
    stack = Stack(Layer().file("same", b"x" * 100), Layer().file("same", b"x" * 100))
    assert stack.states(1) == {"same": DiffState.UNMODIFIED}
    assert stack.changes[1].modified == 0


def test_same_size_new_content_is_modified() -> None:
    stack = Stack(Layer().file("f", b"aaaa"), Layer().file("f", b"bbbb"))
    assert stack.states(1) == {"f": DiffState.MODIFIED}


def test_type_change_is_modified() -> None:
    stack = Stack(Layer().file("f", b"x"), Layer().symlink("f", "elsewhere"))
    assert stack.states(1) == {"f": DiffState.MODIFIED}


def test_re_emitted_parent_is_unmodified_unless_a_child_changed() -> None:
    base = Layer().dir("tmp", mode=0o1777).file("tmp/keep", b"k").dir("etc").file("etc/x", b"1")
    upper = Layer().dir("tmp", mode=0o1777).file("tmp/keep", b"k").dir("etc").file("etc/x", b"2")
    stack = Stack(base, upper)
    assert stack.states(1) == {
        "tmp": DiffState.UNMODIFIED,
        "tmp/keep": DiffState.UNMODIFIED,
        "etc": DiffState.MODIFIED,  # dive: a directory is modified when a child changed
        "etc/x": DiffState.MODIFIED,
    }


def test_layer_states_align_with_entries() -> None:
    stack = Stack(base_with_dir(), Layer().dir("d").whiteout("d/a").file("d/c", b"c"))
    assert stack.states(1) == {
        "d": DiffState.MODIFIED,
        "d/.wh.a": DiffState.REMOVED,
        "d/c": DiffState.ADDED,
    }
    assert len(stack.changes[1].states) == len(stack.entries[1])


def test_zero_entry_layer_changes_nothing() -> None:
    stack = Stack(base_with_dir(), Layer())
    assert stack.changes[1] == LayerChanges(b"", ())
    assert stack.paths() == {"d", "d/a", "d/b", "d/sub", "d/sub/x"}


def test_same_layer_applied_twice_is_unmodified() -> None:
    layer = Layer().dir("opt").file("opt/f", b"same")
    stack = Stack(layer, layer)
    assert set(stack.states(1).values()) == {DiffState.UNMODIFIED}
    assert {path: node.layer for path, node in stack.fs.walk()} == {"opt": 1, "opt/f": 1}
