"""Timing the browsing model of ``bloatscope explore`` on a large image (not a test).

Loads the image once, then times what a key press in the TUI costs the model: building the
tree of each layer in both compare modes, and on the largest tree: toggling a big directory,
setting and clearing a filter, hiding a change kind, sorting by size, expanding and collapsing
everything, and finding a name. Each figure is the median of several runs, in milliseconds,
against the budget (100 ms for a key, 500 ms for a tree). Also prints the memory the model
adds to the loaded report. The cyclic garbage collector is off, as the CLI runs (with it on,
its full scans of the report's millions of objects land inside whatever allocates: ``--gc``).

    python bench/explore_model.py                       # naive-bert
    python bench/explore_model.py --image waste-zoo.docker.tar --repeat 9
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from bloatscope.api import analyze
from bloatscope.explore.base import CompareMode, SortOrder, ViewOptions
from bloatscope.explore.compare import ABSENT, FileTree, TreeCache
from bloatscope.explore.stack import LayerStack
from bloatscope.explore.view import TreeView
from bloatscope.model.report import Report
from bloatscope.model.tree import DiffState

CORPUS = os.environ.get("CORPUS_DIR") or os.path.expanduser("~/.cache/image-corpus")
KEY_BUDGET_MS = 100.0
TREE_BUDGET_MS = 500.0


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _line(label: str, ms: float, budget: float) -> None:
    verdict = "ok" if ms <= budget else "OVER"
    print(f"  {label:<52} {ms:9.1f} ms   {budget:5.0f} ms  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="naive-bert.docker.tar", help="a file in CORPUS_DIR")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pattern", default="torch/lib")
    parser.add_argument("--find", default="libtorch_cpu")
    parser.add_argument(
        "--gc", action="store_true", help="keep the cyclic collector on (the CLI turns it off)"
    )
    args = parser.parse_args(argv)
    path = os.path.join(CORPUS, args.image)
    if not os.path.exists(path):
        print(f"{path} is not built (../shared/corpus/build.sh naive-bert)", file=sys.stderr)
        return 1

    if not args.gc:
        gc.disable()  # as bloatscope's main() runs every command, explore included
    started = time.perf_counter()
    report = analyze(path)
    layers = len(report.image.layers)
    entries = sum(len(layer.entries) for layer in report.image.layers)
    print(f"{args.image}: {layers} layers, {entries:,} entries, analyzed in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    gc.collect()
    rss_report = _rss_bytes()

    print(f"\n  {'operation':<52} {'median':>12}   budget")
    started = time.perf_counter()
    cache = TreeCache(report, keep=2 * layers)
    _line(f"index every path ({len(cache.index):,} nodes, once)",
          (time.perf_counter() - started) * 1000, TREE_BUDGET_MS)  # fmt: skip
    largest = None
    for mode in CompareMode:
        for layer in range(layers):
            ms = _median_ms(lambda at=layer, how=mode: _build(cache, at, how), args.repeat)
            tree = cache.tree(layer, mode)
            _line(f"build tree: layer {layer:>2} {mode.value:<10} ({len(tree):,} paths)", ms,
                  TREE_BUDGET_MS)  # fmt: skip
            if largest is None or len(tree) > len(largest):
                largest = tree
    assert largest is not None
    gc.collect()
    rss_trees = _rss_bytes()

    print(f"\n  on the largest tree: layer {largest.layer} {largest.mode.value}, "
          f"{len(largest):,} paths")  # fmt: skip
    view = TreeView(largest)
    opened = _median_ms(lambda: _open(largest, ViewOptions()), args.repeat)
    _line(f"open a view, all expanded ({len(view):,} lines)", opened, KEY_BUDGET_MS)
    big = _biggest_directory(view)
    line = view.index_of(big)
    assert line is not None
    _line(f"toggle {big} (collapse)", _median_ms(lambda: _toggle_twice(view, big), args.repeat) / 2,
          KEY_BUDGET_MS)  # fmt: skip
    _line("collapse all", _median_ms(lambda: _lines(view, view.collapse_all), args.repeat),
          KEY_BUDGET_MS)  # fmt: skip
    _line(
        "expand all", _median_ms(lambda: _lines(view, view.expand_all), args.repeat), KEY_BUDGET_MS
    )
    filtered = ViewOptions(pattern=args.pattern)
    first = _median_ms(lambda: _fresh_filter(view, filtered), 1)
    _line(f"filter {args.pattern!r} (a new pattern)", first, KEY_BUDGET_MS)
    _line(f"filter {args.pattern!r} (another layer, same pattern)",
          _median_ms(lambda: _options(view, filtered), args.repeat), KEY_BUDGET_MS)  # fmt: skip
    print(f"  {'':<52} ({len(view):,} lines shown)")
    _line("clear the filter", _median_ms(lambda: _options(view, ViewOptions()), args.repeat),
          KEY_BUDGET_MS)  # fmt: skip
    hidden = ViewOptions(hidden=frozenset({DiffState.UNMODIFIED}))
    _line("hide Unmodified", _median_ms(lambda: _options(view, hidden), args.repeat),
          KEY_BUDGET_MS)  # fmt: skip
    by_size = ViewOptions(sort=SortOrder.SIZE)
    _line("open a view by size (first time: sorts every directory)",
          _median_ms(lambda: _open(largest, by_size), 1), KEY_BUDGET_MS)  # fmt: skip
    _line("sort by size (the tree's order kept)",
          _median_ms(lambda: _options(view, by_size), args.repeat), KEY_BUDGET_MS)  # fmt: skip
    _line(f"toggle {big}, by size", _median_ms(lambda: _toggle_twice(view, big), args.repeat) / 2,
          KEY_BUDGET_MS)  # fmt: skip
    view.set_options(ViewOptions())
    view.collapse_all()
    found = _median_ms(lambda: _find_collapsed(view, args.find), args.repeat)
    _line(f"find {args.find!r} from the top, everything collapsed", found, KEY_BUDGET_MS)
    _line("find 'a' (a match in most names)",
          _median_ms(lambda: view.find("a", 0), args.repeat), KEY_BUDGET_MS)  # fmt: skip
    _line("make the Rows of one screen (60 lines)",
          _median_ms(lambda: [view.row(i) for i in range(min(60, len(view)))], args.repeat),
          KEY_BUDGET_MS)  # fmt: skip

    gc.collect()
    print(f"\n  memory: {rss_report / 2**20:.0f} MB resident with the report loaded, "
          f"{rss_trees / 2**20:.0f} MB with the index and {2 * layers - 1} trees")  # fmt: skip
    _memory(report)
    return 0


def _memory(report: Report) -> None:
    """What the model allocates, traced (resident sizes hide it: the analysis freed more)."""
    tracemalloc.start()
    cache = TreeCache(report)
    index_bytes = tracemalloc.get_traced_memory()[0]
    tree = cache.tree(len(report.image.layers) - 1, CompareMode.LAYER)
    tree_bytes = tracemalloc.get_traced_memory()[0] - index_bytes
    view = TreeView(tree)
    len(view)  # its lines are made when first asked
    view_bytes = tracemalloc.get_traced_memory()[0] - index_bytes - tree_bytes
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  traced: index {index_bytes / 2**20:.1f} MB, one tree {tree_bytes / 2**20:.1f} MB, "
          f"its view {view_bytes / 2**20:.1f} MB (peak while building: "
          f"{peak / 2**20:.1f} MB)")  # fmt: skip
    del cache, tree, view


def _open(tree: FileTree, options: ViewOptions) -> int:
    """A view as the app makes one: made, given the options, asked for its lines."""
    view = TreeView(tree)
    view.set_options(options)
    return len(view)


def _options(view: TreeView, options: ViewOptions) -> int:
    view.set_options(options)
    return len(view)


def _lines(view: TreeView, change: Callable[[], None]) -> int:
    """A change, then its lines (a view flattens lazily, when next asked)."""
    change()
    return len(view)


def _build(cache: TreeCache, layer: int, mode: CompareMode) -> None:
    cache._trees.clear()  # time the build, not the cache
    # from layer 0, every layer below replayed: the worst case (a switch to the next or the
    # previous layer moves the kept stack by one layer)
    cache._stack = LayerStack(cache.index, cache.honor_opaque)
    cache.tree(layer, mode)


def _toggle_twice(view: TreeView, path: str) -> None:
    line = view.index_of(path)
    assert line is not None
    view.toggle(line)
    view.toggle(line)


def _fresh_filter(view: TreeView, options: ViewOptions) -> None:
    view.tree.index._match_cache = None  # time the regex over every path
    view.set_options(options)


def _find_collapsed(view: TreeView, text: str) -> None:
    view.collapse_all()
    found = view.find(text, 0)
    assert found is not None, text


def _biggest_directory(view: TreeView) -> str:
    """The directory holding the most paths but less than half of the tree: collapsing it
    removes the most lines a real toggle would."""
    index, states = view.tree.index, view.tree.states
    half = len(view.tree) // 2
    best, best_count = 0, -1
    for node in range(1, len(index)):
        count = index.ends[node] - node - 1
        if states[node] != ABSENT and best_count < count < half:
            best, best_count = node, count
    return index.paths[best]


if __name__ == "__main__":
    sys.exit(main())
