"""Timing ``bloatscope explore`` (the Textual TUI) on a large image, and its memory against
dive's TUI (not a test).

Keys: the app runs in-process under Textual's pilot (``run_test``) with the image read once.
Each key is timed from the moment it is sent to the end of the frame that shows its effect:
the app's frame output is wrapped to note when it last drew, and the frame's terminal escape
codes are still made (the headless driver only skips writing them). The pilot's
``press`` + ``pause`` wall time is not used: its idle detection sleeps 20 ms at a time, which
puts a floor of about 60 ms under every key whatever the app does. Measured on the tree of
the layer with the most entries in both compare modes (cursor, page, collapse and expand a
directory, the filter box opened, a live filter typed and deleted a character at a time, enter)
and on the layers table (switching layers, which builds a tree; switching the compare mode).
Median and max of each against the 100 ms target.

Terminal: ``bloatscope explore`` and ``dive`` run in a pseudo-terminal of the same size on the
same docker-archive, one after the other. Each is timed to its first usable screen (the layer
list) and to its file tree, then steps down through every layer (a key, timed until the
terminal output goes quiet) and quits with q. Peak memory: ``ru_maxrss`` of the largest
process from wait4, and (in one more run of each, sampled every 10 ms as bench/run.py does)
the peak summed PSS of the process tree, bloatscope's reader workers included.

    python bench/explore_tui.py                              # naive-bert
    python bench/explore_tui.py --image waste-zoo.docker.tar --repeat 20 --runs 3
    python bench/explore_tui.py --only keys                  # or: --only terminal
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gc
import os
import re
import select
import shutil
import signal
import statistics
import struct
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bloatscope.api import AnalyzeOptions, outline
from bloatscope.explore.base import CompareMode
from bloatscope.tui.app import ExploreApp
from bloatscope.tui.filetree import FileTreeView
from bloatscope.tui.layers import LayersTable
from run import _tree_pss  # bench/run.py: the same memory figure as the analyze benchmark

CORPUS = os.environ.get("CORPUS_DIR") or os.path.expanduser("~/.cache/image-corpus")
TARGET_MS = 100.0
_QUIET_S = 0.3  # no terminal output for this long: the key's screen is drawn
_GIVE_UP_S = 300.0
_DOWN = b"\x1b[B"
# CSI and OSC sequences, charset selection, keypad modes: what stands between a screen's words
_ESCAPES = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>])"
)


# -- keys, in-process -----------------------------------------------------------------------


class FrameClock:
    """When the app last drew a frame. Textual has no public hook for it: the private
    ``App._display``, which every frame goes through, is wrapped."""

    def __init__(self, app: ExploreApp) -> None:
        self.last = 0.0
        display = app._display
        console = app.console

        def timed(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is None:
                return
            if hasattr(renderable, "render_segments"):  # the headless driver skips only this
                renderable.render_segments(console)
            self.last = time.perf_counter()

        app._display = timed  # type: ignore[method-assign]


@dataclass
class Keys:
    """The samples of each action, in milliseconds, in the order first measured."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    missed: int = 0  # keys after which no frame came: not counted

    async def press(self, pilot: Any, clock: FrameClock, label: str, key: str) -> None:
        clock.last = 0.0
        start = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        if clock.last < start:
            self.missed += 1
            return
        self.samples.setdefault(label, []).append((clock.last - start) * 1000)


async def _time_keys(args: argparse.Namespace, path: str) -> int:
    options = AnalyzeOptions(workers=args.workers, min_finding_bytes=10_000)
    app = ExploreApp(path, options, outline=outline(path))
    keys = Keys()
    async with app.run_test(size=(args.width, args.height)) as pilot:
        started = time.perf_counter()
        await app.workers.wait_for_complete()
        await pilot.pause()
        report = app.report
        if report is None:
            print(f"the app did not load {path}: {app.error}", file=sys.stderr)
            return 1
        layers = report.image.layers
        entries = sum(len(layer.entries) for layer in layers)
        print(f"{os.path.basename(path)}: {len(layers)} layers, {entries:,} entries, read by "
              f"the app in {time.perf_counter() - started:.1f} s; terminal "
              f"{args.width}x{args.height}")  # fmt: skip
        clock = FrameClock(app)
        table, tree = app.query_one(LayersTable), app.query_one(FileTreeView)
        # the layer with the most entries: its tree has the most lines in both modes
        largest = max(range(len(layers)), key=lambda index: len(layers[index].entries))
        for mode in CompareMode:
            name = "per layer" if mode is CompareMode.LAYER else "aggregated"
            table.focus()
            await pilot.pause()
            if app.mode is not mode:
                # at the largest layer: the mode switch rebuilds its tree
                await keys.press(pilot, clock, f"{name}: switch the compare mode", "ctrl+a")
            await _walk_layers(pilot, clock, keys, table=table, largest=largest, name=name)
            tree.focus()
            tree.cursor = 0
            await pilot.pause()
            lines = tree.rows
            for _ in range(args.repeat):
                await keys.press(pilot, clock, f"{name}: cursor down", "down")
            for _ in range(args.repeat):
                await keys.press(pilot, clock, f"{name}: page down", "pagedown")
            big = _biggest_directory(tree)
            shown = big if len(big) <= 30 else "…" + big[-29:]
            for _ in range(args.repeat):
                line = tree.view.index_of(big) if tree.view is not None else None
                assert line is not None, big
                tree.cursor = line
                await pilot.pause()
                await keys.press(pilot, clock, f"{name}: collapse {shown}", "space")
                await keys.press(pilot, clock, f"{name}: expand it again", "space")
            await _filter(pilot, clock, keys, app=app, name=name, pattern=args.pattern)
            print(f"  {name}: layer {largest} ({len(layers[largest].entries):,} entries), "
                  f"{lines:,} lines in its tree")  # fmt: skip
    _print_keys(keys)
    return 0


async def _walk_layers(
    pilot: Any, clock: FrameClock, keys: Keys, *, table: LayersTable, largest: int, name: str
) -> None:
    """Down through every layer and back up (each switch builds or reuses a tree), then to the
    largest layer, untimed."""
    count = len(table.lines)
    while table.cursor_row > 0:
        await pilot.press("up")
    await pilot.pause()
    for _ in range(count - 1):
        await keys.press(pilot, clock, f"{name}: next layer (down)", "down")
    for _ in range(count - 1):
        await keys.press(pilot, clock, f"{name}: previous layer (up)", "up")
    for _ in range(largest):
        await pilot.press("down")
    await pilot.pause()


async def _filter(
    pilot: Any, clock: FrameClock, keys: Keys, *, app: ExploreApp, name: str, pattern: str
) -> None:
    """The filter is live: each character typed or deleted filters the tree again."""
    from textual.widgets import Input  # noqa: PLC0415

    # the first blink of the box's cursor comes 0.5 s after it opens, long after the frame
    await keys.press(pilot, clock, f"{name}: filter, open the box (ctrl+f)", "ctrl+f")
    box = app.query_one("#filter", Input)
    box.cursor_blink = False  # a blink is a frame of its own
    await pilot.pause()
    for character in pattern:
        await keys.press(pilot, clock, f"{name}: filter, type a character", character)
    assert app.view_options.pattern == pattern, app.view_options.pattern
    await keys.press(pilot, clock, f"{name}: filter, enter", "enter")
    await pilot.press("ctrl+f", "end")
    box.cursor_blink = False
    await pilot.pause()
    for _ in pattern:
        await keys.press(pilot, clock, f"{name}: filter, delete a character", "backspace")
    await pilot.press("enter")
    await pilot.pause()
    assert app.view_options.pattern is None, app.view_options.pattern


def _biggest_directory(tree: FileTreeView) -> str:
    """The directory with the most lines below it, but less than half of the tree's: collapsing
    it removes the most lines a real toggle would."""
    view = tree.view
    assert view is not None
    paths = [view.row(line).path for line in range(len(view))]
    half = len(paths) // 2
    best, best_count = paths[0], -1
    stack: list[tuple[str, int]] = []  # open directories and the line each started at
    for line, path in enumerate([*paths, ""]):
        while stack and not path.startswith(stack[-1][0] + "/"):
            top, start = stack.pop()
            count = line - start - 1
            if best_count < count < half:
                best, best_count = top, count
        if path:
            stack.append((path, line))
    return best


def _print_keys(keys: Keys) -> None:
    print(f"\n  {'key (from sent to its frame drawn)':<62} {'n':>3} {'median':>9} {'max':>9}"
          f"   target")  # fmt: skip
    for label, samples in keys.samples.items():
        worst = max(samples)
        verdict = "ok" if worst <= TARGET_MS else "OVER"
        if verdict == "OVER" and statistics.median(samples) <= TARGET_MS:
            verdict = "OVER at max"
        print(f"  {label:<62} {len(samples):>3} {statistics.median(samples):6.1f} ms "
              f"{worst:6.1f} ms   {TARGET_MS:.0f} ms  {verdict}")  # fmt: skip
    if keys.missed:
        print(f"  ({keys.missed} keys drew no frame and are left out)")


# -- both TUIs in a pseudo-terminal -----------------------------------------------------------


@dataclass
class Session:
    layers_s: float | None = None  # the layer list is on the screen
    tree_s: float | None = None  # the file tree too
    key_ms: list[float] = field(default_factory=list)  # a layer switch, until output is quiet
    max_rss: int = 0  # ru_maxrss of the largest process
    pss_peak: int = 0  # the peak summed PSS of the process tree, when sampled
    status: int = 0


def run_in_pty(
    command: list[str],
    *,
    size: tuple[int, int],
    layers_marker: bytes,
    tree_marker: bytes,
    downs: int,
    sample_memory: bool,
) -> Session:
    """Starts ``command`` in a pseudo-terminal of ``size`` (columns, rows), waits for the two
    markers (regular expressions on the screen's text, escape codes taken out), presses down
    ``downs`` times, then q."""
    columns, rows = size
    start = time.perf_counter()
    pid, terminal = os.forkpty()
    if pid == 0:  # the child: the terminal's size set before the program asks for it
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
        env["TERM"] = "xterm-256color"
        try:
            os.execvpe(command[0], command, env)
        finally:
            os._exit(127)
    session = Session()
    sampler = _Sampler(pid) if sample_memory else None
    screen = _Screen(terminal)
    try:
        layers, tree = re.compile(layers_marker), re.compile(tree_marker)
        while session.tree_s is None:
            if not screen.read(_GIVE_UP_S - (time.perf_counter() - start)):
                raise RuntimeError(f"{command[0]} ended or hung before drawing its tree")
            if session.layers_s is None and screen.find(layers):
                session.layers_s = screen.last - start
            if screen.find(tree):
                session.tree_s = screen.last - start
                session.layers_s = session.layers_s or session.tree_s
        screen.settle()
        for _ in range(downs):
            sent = time.perf_counter()
            os.write(terminal, _DOWN)
            screen.settle()
            if screen.last > sent:
                session.key_ms.append((screen.last - sent) * 1000)
        os.write(terminal, b"q")
        while screen.read(10.0):
            pass
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        _, status, usage = os.wait4(pid, 0)
        os.close(terminal)
        if sampler is not None:
            session.pss_peak = sampler.stop()
    session.max_rss = usage.ru_maxrss * 1024
    session.status = os.waitstatus_to_exitcode(status)
    return session


class _Screen:
    """What a program wrote to the terminal, read as it comes."""

    def __init__(self, terminal: int) -> None:
        self.terminal = terminal
        self.output = bytearray()
        self.last = 0.0  # when the last output came
        self._searched: dict[re.Pattern[bytes], int] = {}  # how far each marker was looked for

    def read(self, timeout: float) -> bool:
        """Waits up to ``timeout`` seconds for output; False when none came or it ended."""
        ready, _, _ = select.select([self.terminal], [], [], max(timeout, 0.0))
        if not ready:
            return False
        try:
            data = os.read(self.terminal, 1 << 16)
        except OSError:  # EIO: the program closed the terminal
            return False
        self.output += data
        self.last = time.perf_counter()
        return bool(data)

    def settle(self) -> None:
        """Reads until the output has been quiet for a while (a screen fully drawn)."""
        while self.read(_QUIET_S):
            pass

    def find(self, marker: re.Pattern[bytes]) -> bool:
        """The marker in the text written since it was last looked for (with some overlap, as
        a word or an escape code can be split between reads)."""
        searched = self._searched.get(marker, 0)
        window = bytes(self.output[max(searched - 4096, 0) :])
        self._searched[marker] = len(self.output)
        return marker.search(_ESCAPES.sub(b"", window)) is not None


class _Sampler:
    """The peak summed PSS of a process tree, sampled 100 times a second in a thread."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(pid,), daemon=True)
        self._thread.start()

    def _sample(self, pid: int) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _tree_pss(pid))
            self._done.wait(0.01)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def _time_terminals(args: argparse.Namespace, path: str) -> int:
    archive = os.path.join(CORPUS, args.dive_image)
    dive = shutil.which("dive") or os.path.join(os.path.dirname(sys.executable), "dive")
    ours = shutil.which("bloatscope") or os.path.join(os.path.dirname(sys.executable), "bloatscope")
    downs = len(outline(path).layers) - 1
    commands = {
        "bloatscope": (
            [ours, "explore", path],
            # an outline row's compressed size ("~121 MB"), then the tree's title
            rb"~[0-9.]+ [kMGT]?B",
            rb"Layer Contents \(layer ",
        ),
        "dive": (
            [dive, "--source", "docker-archive", archive],
            rb"Layers",  # dive draws nothing of its UI before everything is read
            rb"Current Layer Contents",
        ),
    }
    size = (args.width, args.height)
    print(f"\nin a {args.width}x{args.height} pseudo-terminal: bloatscope explore "
          f"{os.path.basename(path)}, dive on {os.path.basename(archive)}; {args.runs} "
          f"alternating runs each, and one more with memory sampled")  # fmt: skip
    runs: dict[str, list[Session]] = {name: [] for name in commands}
    sampled: dict[str, Session] = {}
    for attempt in range(args.runs + 1):
        for name, (command, layers, tree) in commands.items():
            session = run_in_pty(
                command,
                size=size,
                layers_marker=layers,
                tree_marker=tree,
                downs=downs,
                sample_memory=attempt == args.runs,
            )
            if session.status != 0:
                print(f"{name} exited with {session.status}", file=sys.stderr)
                return 1
            if attempt == args.runs:
                sampled[name] = session
            else:
                runs[name].append(session)
    print(f"\n  {'':<34} {'bloatscope':>12} {'dive':>12} {'ratio':>8}")

    def row(label: str, ours: float, theirs: float, unit: str, scale: float = 1.0) -> None:
        ratio = f"{ours / theirs:.2f}x" if theirs else ""
        print(f"  {label:<34} {ours / scale:9.1f} {unit:<2} {theirs / scale:9.1f} {unit:<2} "
              f"{ratio:>8}")  # fmt: skip

    def median(name: str, value: str) -> float:
        return statistics.median(getattr(session, value) for session in runs[name])

    row("first screen (layer list)", median("bloatscope", "layers_s"), median("dive", "layers_s"),
        "s")  # fmt: skip
    row("file tree shown", median("bloatscope", "tree_s"), median("dive", "tree_s"), "s")
    ours_keys = [ms for session in runs["bloatscope"] for ms in session.key_ms]
    dive_keys = [ms for session in runs["dive"] for ms in session.key_ms]
    if ours_keys and dive_keys:
        row(f"next layer, median of {len(ours_keys)}", statistics.median(ours_keys),
            statistics.median(dive_keys), "ms")  # fmt: skip
        row("next layer, max", max(ours_keys), max(dive_keys), "ms")
    print(f"  {'':<34} (a key: until the output was quiet for {_QUIET_S * 1000:.0f} ms)")
    largest = {
        name: max(session.max_rss for session in [*runs[name], sampled[name]]) for name in runs
    }
    row("peak RSS, largest process", largest["bloatscope"], largest["dive"], "MB", 2**20)
    row("peak PSS, process tree (sampled)", sampled["bloatscope"].pss_peak,
        sampled["dive"].pss_peak, "MB", 2**20)  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="naive-bert.docker.tar", help="a file in CORPUS_DIR")
    parser.add_argument(
        "--dive-image", help="the docker-archive dive reads (default: --image's docker.tar)"
    )
    parser.add_argument("--repeat", type=int, default=10, help="presses of each tree key")
    parser.add_argument("--runs", type=int, default=1, help="timed terminal runs of each TUI")
    parser.add_argument("--pattern", default="torch/lib", help="the filter typed")
    parser.add_argument("--workers", type=int, default=0, help="as the CLI's --workers")
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--height", type=int, default=40)
    parser.add_argument("--only", choices=("keys", "terminal"))
    parser.add_argument(
        "--gc", action="store_true", help="keep the cyclic collector on (the CLI turns it off)"
    )
    args = parser.parse_args(argv)
    path = os.path.join(CORPUS, args.image)
    stem = args.image.split(".", 1)[0]
    args.dive_image = args.dive_image or f"{stem}.docker.tar"
    for needed in (path, os.path.join(CORPUS, args.dive_image)):
        if not os.path.exists(needed):
            print(f"{needed} is not built (../shared/corpus/build.sh {stem})", file=sys.stderr)
            return 1
    if args.only != "terminal":
        if not args.gc:
            gc.disable()  # as bloatscope's main() runs every command, explore included
        if asyncio.run(_time_keys(args, path)) != 0:
            return 1
        gc.enable()
    if args.only != "keys":
        return _time_terminals(args, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
