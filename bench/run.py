"""Side-by-side benchmark: bloatscope against dive, and against the physical limit.

For each docker-archive it runs ``bloatscope analyze`` and ``dive --ci --json`` on the same file,
alternating, and prints wall time and peak memory with their ratios. For OCI layouts with gzip
layers (which dive cannot read) it compares bloatscope with ISA-L alone inflating the same blobs.

Peak memory is the largest sum of proportional set size (PSS) over the whole process tree
(bloatscope's worker processes included), sampled every 10 ms from /proc/PID/smaps_rollup. PSS
splits pages shared after fork() between the processes, so the sum is the memory really used;
the kernel's ru_maxrss of the largest single process is printed beside it. Sampling costs CPU
and takes memory locks, so wall times come from runs without it and memory from one more run
of each command.

    python bench/run.py               # naive-bert (first: ../shared/corpus/build.sh naive-bert)
    python bench/run.py --images waste-zoo python-full --repeat 5
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

CORPUS = os.environ.get("CORPUS_DIR") or os.path.expanduser("~/.cache/image-corpus")


@dataclass
class Run:
    seconds: float
    tree_peak_bytes: int  # peak of the summed PSS of the process tree
    max_rss_bytes: int  # ru_maxrss of the largest process, from the kernel
    cpu_seconds: float = 0.0  # user + system, worker processes included


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree_pss(root: int) -> int:
    """Summed PSS of ``root`` and its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _pss(pid)
        pending.extend(children.get(pid, ()))
    return total


def measure(command: list[str], *, sample_memory: bool) -> Run:
    """One run. Memory sampling reads /proc/PID/smaps_rollup of every process of the tree
    100 times a second, which costs CPU and takes the processes' memory locks: timed runs are
    done without it, and memory is measured in runs of its own."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_pss(process.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        sampler.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    if sample_memory:
        sampler.join()
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr}")
    return Run(seconds, peak, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime)


def best(timed: list[Run], sampled: list[Run]) -> Run:
    """Median wall time of the timed runs; the largest peak memory of the sampled runs
    (memory is not noise to be averaged)."""
    return Run(
        statistics.median(r.seconds for r in timed),
        max(r.tree_peak_bytes for r in sampled),
        max(r.max_rss_bytes for r in sampled),
        statistics.median(r.cpu_seconds for r in timed),
    )


def bloatscope_command(path: str, output: str) -> list[str]:
    exe = shutil.which("bloatscope") or "bloatscope"
    return [exe, "analyze", "--quiet", "--format", "json", "--output", output, path]


def no_findings_command(path: str, output: str) -> list[str]:
    return [*bloatscope_command(path, output), "--no-findings"]


def no_packages_command(path: str, output: str) -> list[str]:
    return [*bloatscope_command(path, output), "--no-packages"]


def lint_command(path: str) -> list[str]:
    exe = shutil.which("bloatscope") or "bloatscope"
    return [exe, "lint", "--quiet", "--fail-on", "none", path]


def hadolint_command(path: str) -> list[str]:
    exe = shutil.which("hadolint") or "hadolint"
    return [exe, "--no-fail", path]


def lint_files() -> list[str]:
    """The corpus Dockerfiles and the test set written in the styles found in the wild."""
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.environ.get("SHARED_DIR") or os.path.join(here, "..", "..", "shared")
    found = glob.glob(os.path.join(shared, "corpus", "images", "*", "Dockerfile"))
    found += glob.glob(os.path.join(here, "..", "tests", "dockerfile", "wild", "*.Dockerfile"))
    return sorted(found)


def compile_bytecode() -> None:
    """Start-up is most of lint's time, so time it as installed: pip compiles the package's
    bytecode, while an editable checkout run with PYTHONDONTWRITEBYTECODE=1 (set on some CI
    machines) would compile every module on every run."""
    import bloatscope  # noqa: PLC0415

    package = os.path.dirname(os.path.abspath(bloatscope.__file__))
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)


def dive_command(path: str, output: str) -> list[str]:
    exe = shutil.which("dive") or "dive"
    return [exe, "--ci", "--json", output, f"docker-archive://{path}"]


def isal_command(blobs: list[str]) -> list[str]:
    script = (
        "import sys\nfrom isal import igzip\n"
        "for path in sys.argv[1:]:\n"
        "    with igzip.open(path) as f:\n"
        "        while f.read(1 << 22): pass\n"
    )
    return [sys.executable, "-c", script, *blobs]


def gzip_blobs(layout: str) -> list[str]:
    """The layer blobs of an OCI layout that are gzip, by their magic bytes."""
    found = []
    for path in glob.glob(os.path.join(layout, "blobs", "*", "*")):
        with open(path, "rb") as handle:
            if handle.read(2) == b"\x1f\x8b":
                found.append(path)
    return sorted(found)


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def compare(
    name: str, ours: list[str], theirs: list[str], label: str, repeat: int
) -> dict[str, str]:
    our_runs, their_runs = [], []
    measure(ours, sample_memory=False)  # warm the page cache once for both
    for _ in range(repeat):
        their_runs.append(measure(theirs, sample_memory=False))
        our_runs.append(measure(ours, sample_memory=False))
    our_memory = [measure(ours, sample_memory=True)]
    their_memory = [measure(theirs, sample_memory=True)]
    a, b = best(our_runs, our_memory), best(their_runs, their_memory)
    return {
        "input": name,
        "versus": label,
        "bloatscope s": f"{a.seconds:.2f}",
        f"{label} s": f"{b.seconds:.2f}",
        "time ratio": f"{a.seconds / b.seconds:.2f}x",
        "cpu ratio": f"{a.cpu_seconds / b.cpu_seconds:.2f}x",
        "bloatscope peak": f"{mb(a.tree_peak_bytes)} ({mb(a.max_rss_bytes)})",
        f"{label} peak": f"{mb(b.tree_peak_bytes)} ({mb(b.max_rss_bytes)})",
        "memory ratio": f"{a.tree_peak_bytes / b.tree_peak_bytes:.2f}x",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", nargs="+", default=["naive-bert"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument(
        "--findings-overhead",
        action="store_true",
        help="also time analyze against analyze --no-findings (the causes' share of the time)",
    )
    parser.add_argument(
        "--packages-overhead",
        action="store_true",
        help="also time analyze against analyze --no-packages (cataloging and measuring "
        "packages; the target is at most 1.20x)",
    )
    parser.add_argument(
        "--lint",
        action="store_true",
        help="only time `bloatscope lint` against hadolint on every test Dockerfile (the "
        "target: as fast as hadolint for one file)",
    )
    args = parser.parse_args()
    rows = []
    if args.lint:
        compile_bytecode()
        for path in lint_files():
            name = os.path.relpath(path, os.path.dirname(os.path.dirname(path)))
            rows.append(
                compare(name, lint_command(path), hadolint_command(path), "hadolint", args.repeat)
            )
        args.images = []
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "out.json")
        for image in args.images:
            archive = os.path.join(CORPUS, f"{image}.docker.tar")
            layout = os.path.join(CORPUS, f"{image}.oci")
            if os.path.exists(archive) and args.findings_overhead:
                rows.append(
                    compare(
                        f"{image}.docker.tar",
                        bloatscope_command(archive, out),
                        no_findings_command(archive, out),
                        "without-findings",
                        args.repeat,
                    )
                )
            if os.path.exists(archive) and args.packages_overhead:
                rows.append(
                    compare(
                        f"{image}.docker.tar",
                        bloatscope_command(archive, out),
                        no_packages_command(archive, out),
                        "without-packages",
                        args.repeat,
                    )
                )
            if os.path.exists(archive):
                rows.append(
                    compare(
                        f"{image}.docker.tar",
                        bloatscope_command(archive, out),
                        dive_command(archive, out),
                        "dive",
                        args.repeat,
                    )
                )
            if os.path.isdir(layout):
                rows.append(
                    compare(
                        f"{image}.oci",
                        bloatscope_command(layout, out),
                        isal_command(gzip_blobs(layout)),
                        "isal-inflate",
                        args.repeat,
                    )
                )
    print(
        f"cores: {os.cpu_count()}; time: median of {args.repeat} unsampled runs; peak: summed "
        "PSS of the process tree in a sampled run (ru_maxrss of the largest process)\n"
    )
    for row in rows:
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cores": os.cpu_count(), "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
