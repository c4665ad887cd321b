"""The file-tree pane: the rows of an explore ``TreeView`` drawn line by line (Textual's line
API, so that only the lines on screen are ever rendered, whatever the tree's size), with a
cursor, dive's colours for each change kind, the attribute columns and size bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from bloatscope.model.tree import DiffState
from bloatscope.render.escape import safe
from bloatscope.render.units import human_bytes

if TYPE_CHECKING:
    from textual.events import Click

    from bloatscope.explore.base import Row
    from bloatscope.explore.view import TreeView

# dive's colours: green added, yellow modified, red removed, the default unmodified
STATE_STYLES = {
    DiffState.ADDED: Style(color="green"),
    DiffState.MODIFIED: Style(color="yellow"),
    DiffState.REMOVED: Style(color="red"),
    DiffState.UNMODIFIED: Style(),
}
# NO_COLOR: a mark before each name in place of the colour
_STATE_MARKS = {
    DiffState.ADDED: "+",
    DiffState.MODIFIED: "~",
    DiffState.REMOVED: "-",
    DiffState.UNMODIFIED: " ",
}
_BAR_WIDTH = 8
_PLAIN = Style()  # every segment styled: NO_COLOR's filter cannot take a None style
_BAR = Style(color="bright_black")
_HIGHLIGHT = Style(bold=True, underline=True)
_ATTRIBUTES_WIDTH = 10 + 1 + 11 + 1 + 9 + 1  # mode, uid:gid, size
_SIZE_WIDTH = 9 + 1
_NAME_ROOM = 28  # columns kept for the tree's names before attributes are dropped


class FileTreeView(ScrollView, can_focus=True):
    """Shows a TreeView. The app swaps views (a layer, a compare mode) with ``show``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,u", "page(-1)", "Page up", show=False),
        Binding("pagedown,d", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("left,h", "parent", "Parent", show=False),
        Binding("right,l", "into", "Open", show=False),
        Binding("space", "toggle_dir", "Collapse/expand"),
        # ctrl+space reaches Textual as ctrl+@ (a NUL byte) from most terminals
        Binding("plus,ctrl+space,ctrl+@", "expand_all", "Expand all", show=False),
        Binding("minus", "collapse_all", "Collapse all", show=False),
        # in the layers pane ctrl+a is the aggregated mode; here it is dive's hide Added
        Binding("ctrl+a", "app.hide('added')", "Hide added", show=False),
    ]
    DEFAULT_CSS = """
    FileTreeView {
        height: 1fr;
        overflow-y: scroll;
        overflow-x: auto;
    }
    FileTreeView > .filetree--cursor {
        background: $accent 40%;
    }
    FileTreeView:focus > .filetree--cursor {
        background: $accent;
        color: $text;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"filetree--cursor"}

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    show_attributes: reactive[bool] = reactive(True, init=False)

    class Selected(Message):
        """The cursor moved to a row (``row`` is None when the view is empty)."""

        def __init__(self, row: Row | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: TreeView | None = None
        self.highlighted: frozenset[str] = frozenset()
        self._styles: tuple[Style, Style] | None = None  # this frame's (pane, cursor) styles

    # -- the model --------------------------------------------------------------------------

    def show(self, view: TreeView | None, *, keep: str | None = None) -> None:
        """Draw ``view``; put the cursor on the row of path ``keep`` when it is there."""
        self.view = view
        found = view.index_of(keep) if view is not None and keep else None
        self._resize()
        self.cursor = found if found is not None else 0

    def changed(self, keep: str | None = None) -> None:
        """The view's lines changed (a toggle, new options, a reveal): redraw, with the cursor
        on the line of path ``keep`` when the view shows it, else as near its old line as the
        view allows. To keep the cursor on its path, take the path before the change: after
        it, the old line may hold another path."""
        self._resize()
        found = self.view.index_of(keep) if self.view is not None and keep else None
        self.cursor = found if found is not None else min(self.cursor, max(self.rows - 1, 0))
        self.refresh()

    @property
    def rows(self) -> int:
        return len(self.view) if self.view is not None else 0

    def current_row(self) -> Row | None:
        if self.view is None or not 0 <= self.cursor < self.rows:
            return None
        return self.view.row(self.cursor)

    def current_path(self) -> str | None:
        row = self.current_row()
        return row.path if row is not None else None

    def _resize(self) -> None:
        # as wide as the pane: lines are cut at its edge, so no horizontal scroll bar takes a
        # line of it
        size = Size(self.scrollable_content_region.width, self.rows)
        if size == self.virtual_size:
            return
        # The vertical bar is always there (overflow-y: scroll), so a new row count changes no
        # layout: set the size without the whole-screen layout that assigning the reactive asks
        # for (most of a toggle's or a layer switch's time on naive-bert), as Textual does itself
        # when it knows the layout holds.
        self.set_reactive(FileTreeView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def on_resize(self) -> None:
        self._resize()

    # -- cursor -----------------------------------------------------------------------------

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, self.rows - 1)) if self.rows else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        # a jump (a search hit, a finding's file) lands mid-screen, with what is around it
        jump = abs(new - old) >= max(self.size.height, 1)
        self.scroll_to_region(
            Region(0, new, 1, 1), animate=False, force=True, immediate=True, center=jump
        )
        self.post_message(self.Selected(self.current_row()))

    def watch_show_attributes(self) -> None:
        self.refresh()

    def refresh_line(self, index: int) -> None:
        y = index - self.scroll_offset.y
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def action_cursor(self, step: int) -> None:
        self.cursor += step

    def action_cursor_to(self, index: int) -> None:
        self.cursor = index if index >= 0 else self.rows - 1

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.size.height - 1, 1)

    def action_parent(self) -> None:
        if self.view is not None and self.rows:
            parent = self.view.parent_index(self.cursor)
            if parent is not None:
                self.cursor = parent

    def action_into(self) -> None:
        row = self.current_row()
        if row is None or not row.is_dir:
            return
        if not row.expanded:
            self.action_toggle_dir()
        elif row.has_children:
            self.cursor += 1

    def action_toggle_dir(self) -> None:
        row = self.current_row()
        if self.view is not None and row is not None and row.is_dir:
            self.view.toggle(self.cursor)
            self.changed(keep=row.path)

    def action_expand_all(self) -> None:
        if self.view is not None:
            path = self.current_path()
            self.view.expand_all()
            self.changed(keep=path)

    def action_collapse_all(self) -> None:
        if self.view is not None:
            path = self.current_path()
            self.view.collapse_all()
            # the cursor goes to the top-level directory that held it
            self.changed(keep=path.split("/", 1)[0] if path else None)

    async def _on_click(self, event: Click) -> None:
        index = event.y + self.scroll_offset.y
        if 0 <= index < self.rows:
            if index == self.cursor and event.chain > 1:
                self.action_toggle_dir()
            self.cursor = index

    # -- drawing ----------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # the pane's styles, looked up once a frame rather than once a line (~0.2 ms each)
        self._styles = (self.rich_style, self.get_component_rich_style("filetree--cursor"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base, cursor = self._styles or (self.rich_style, Style())
        if self.view is None or index >= self.rows:
            return Strip.blank(width, base)
        row = self.view.row(index)
        # the pane's own colours under every part of the line
        segments = [Segment(s.text, base + (s.style or _PLAIN)) for s in self._segments(row)]
        if index == self.cursor:
            segments = [Segment(s.text, (s.style or Style()) + cursor) for s in segments]
            # the cursor's bar spans the pane, not only the name
            return Strip(segments).crop_extend(scroll_x, scroll_x + width, cursor)
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base)

    def _segments(self, row: Row) -> list[Segment]:
        segments: list[Segment] = []
        width = self.size.width or 80
        # in a narrow pane (an 80-column terminal) the names come first: the permissions and
        # the owner go, then the size bar, before a name is pushed off the screen
        if self.show_attributes and width >= _ATTRIBUTES_WIDTH + _BAR_WIDTH + 1 + _NAME_ROOM:
            owner = f"{row.uid}:{row.gid}"
            segments.append(
                Segment(f"{row.mode:<10} {owner:>11} {human_bytes(row.size):>9} ", _PLAIN)
            )
        elif self.show_attributes:
            segments.append(Segment(f"{human_bytes(row.size):>9} ", _PLAIN))
        if width >= _SIZE_WIDTH + _BAR_WIDTH + 1 + _NAME_ROOM:
            filled = round(row.fraction * _BAR_WIDTH) if row.is_dir else 0
            segments.append(Segment("█" * filled + " " * (_BAR_WIDTH - filled) + " ", _BAR))
        marker = ("▾ " if row.expanded else "▸ ") if row.is_dir else "  "
        if self.app.no_color:  # without colours the change kind is spelled out
            marker += _STATE_MARKS[row.state]
        segments.append(Segment("  " * row.depth + marker, _PLAIN))
        style = STATE_STYLES[row.state]
        if row.path in self.highlighted:
            style = style + _HIGHLIGHT
        name = safe(row.name) + ("/" if row.is_dir else "")
        segments.append(Segment(name, style))
        if row.linkname:
            segments.append(Segment(f" → {safe(row.linkname)}", style))
        return segments
