"""Regenerates src/bloatscope/data/slim_bases.json: the Debian packages of a slim Python base
image, per release, which the full-base finding compares an image's packages against.

    python scripts/slim_bases.py IMAGE --source "how IMAGE was built"

IMAGE is any reference bloatscope reads (an OCI layout directory, an archive). Its release is
read from its base-files package (see bloatscope.analysis.full_base); that release's entry is
replaced and the other releases are kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bloatscope.analysis.full_base import release_of
from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.model.package import Ecosystem

DATA = Path(__file__).resolve().parent.parent / "src/bloatscope/data/slim_bases.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="a slim Python image: OCI layout directory or archive")
    parser.add_argument("--source", required=True, help="how the image was built, for the record")
    parser.add_argument("--output", type=Path, default=DATA)
    args = parser.parse_args(argv)

    report = analyze(args.image, AnalyzeOptions(findings=False))
    if report.packages is None:
        print(f"{args.image}: no packages cataloged", file=sys.stderr)
        return 1
    records = [p.record for p in report.packages.packages if p.ecosystem is Ecosystem.DPKG]
    codename = release_of(records)
    if codename is None:
        print(f"{args.image}: cannot tell the Debian release (no base-files?)", file=sys.stderr)
        return 1
    data = json.loads(args.output.read_text()) if args.output.exists() else {}
    data.setdefault(
        "about",
        "Per Debian release: the dpkg packages of a slim Python base (python:3.x-slim-<release> "
        "style). Regenerate with scripts/slim_bases.py.",
    )
    data.setdefault("releases", {})[codename] = {
        "source": args.source,
        "image_id": report.image.image_id,
        "packages": sorted({record.name for record in records}),
    }
    data["releases"] = dict(sorted(data["releases"].items()))
    args.output.write_text(json.dumps(data, indent=2) + "\n")
    print(f"{codename}: {len(data['releases'][codename]['packages'])} packages -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
