"""What every command of the command line shares: exit codes, image arguments, size and count
arguments, the progress display and atomic output files."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from bloatscope.progress import NullProgress, ProgressObserver

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

EXIT_OK, EXIT_GATE_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

REFERENCE_HELP = (
    "image to read: docker-archive:PATH, oci-archive:PATH, oci-dir:PATH, or a bare path "
    "(sniffed; a gzip- or zstd-compressed tar is accepted). PATH:TAG picks one image from an "
    "archive that holds several. Default: the sample image shipped with bloatscope"
)


class RichProgress:
    """Draws the core's progress on stderr; transient, so it leaves no trace in logs."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (  # noqa: PLC0415 - only on a terminal
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._progress.start()

    def start(self, label: str, total: int) -> None:
        self.finish()
        self._task = self._progress.add_task(label, total=total)

    def advance(self, amount: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def finish(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None

    def close(self) -> None:
        self.finish()
        self._progress.stop()


def sample_reference() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample", "sample.oci.tar")


def image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", nargs="?", metavar="IMAGE", help=REFERENCE_HELP)
    parser.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="which image of a multi-platform index to read",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also check every layer's diff_id (sha256 of all its bytes)",
    )
    parser.add_argument(
        "--workers",
        type=positive_argument,
        default=0,
        metavar="N",
        help="processes that read layers (default: cores + 1 for compressed layers, one per "
        "core for plain tars; 1 reads in-process)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display")


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
}


def size_argument(text: str) -> int:
    """A byte count like ``50MB`` or ``1GiB`` (decimal and binary units, any case)."""
    number = text.strip().rstrip("bBiIkKmMgG")
    unit = text.strip()[len(number) :].lower()
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size") from None
    if unit not in _SIZE_UNITS or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (try 10kB, 50MB or 1GiB)")
    return int(value * _SIZE_UNITS[unit])


def positive_argument(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def consoles() -> tuple[Console, Console]:
    """rich consoles for standard output and error. Made only by the commands that draw
    tables or colour: importing rich costs more than all of ``lint``'s own work."""
    from rich.console import Console  # noqa: PLC0415

    # NO_COLOR (no-color.org): no colour, and no bold or dim either, so no escape codes at all
    plain = {"color_system": None} if os.environ.get("NO_COLOR") else {}
    stdout = Console(highlight=False, soft_wrap=False, **plain)  # type: ignore[arg-type]
    stderr = Console(stderr=True, highlight=False, **plain)  # type: ignore[arg-type]
    return stdout, stderr


@contextlib.contextmanager
def progress_display(args: argparse.Namespace) -> Iterator[ProgressObserver]:
    """A progress bar on standard error when it is a terminal, drawn with rich."""
    if args.quiet or not sys.stderr.isatty():
        yield NullProgress()
        return
    _, stderr = consoles()
    display = RichProgress(stderr)
    try:
        yield display
    finally:
        display.close()


def write_output(text: str, path: str | None, stdout: IO[str] | None = None) -> None:
    """``text`` to the file at ``path`` (atomically), or to ``stdout`` (default: standard
    output at call time, so that captured output sees it) when no path is given."""
    if path is None:
        stream = stdout if stdout is not None else sys.stdout
        stream.write(text)
        stream.flush()
        return
    import stat  # noqa: PLC0415 - only when writing a file
    import tempfile  # noqa: PLC0415

    try:
        existing = os.stat(path).st_mode
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing):
        # /dev/null, /dev/stdout, a FIFO: written to, never replaced (as root, replacing
        # /dev/null with a regular file would break every program on the machine)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".bloatscope-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        # mkstemp makes the file private: give it the mode the file had, or a new file's
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
