"""Refresh the README's quality sections from the project's own evaluation commands.

Quality numbers in the docs must be what `allywatch eval` printed, never typed by hand.
This runs the evaluations (and the replay the clustering evaluation scores) and pastes
their output, verbatim, between marker comments in the README:

    <!-- eval:NAME:start -->  ...  <!-- eval:NAME:end -->

Run it with `make quality` (needs ../shared/data); the replay's alerts stay in
`out/replay-2020.alerts.jsonl` for inspection.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import os
import sys
from pathlib import Path

from pipelines.cli import main as allywatch

REPO = Path(__file__).resolve().parents[2]


def captured(argv: list[str]) -> str:
    """Run an allywatch command in-process and return what it printed to stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = allywatch(argv)
    if code != 0:
        raise SystemExit(f"`allywatch {' '.join(argv)}` exited with {code}")
    return out.getvalue().rstrip() + "\n"


def reports(data: Path, out_dir: Path) -> dict[str, str]:
    """Every report, run with paths relative to the repository so the output reads the same anywhere."""
    labels = os.path.relpath(data / "labels" / "dev.jsonl", REPO)
    manifest = os.path.relpath(data / "replay-2020" / "manifest.json", REPO)
    result = {}
    for split in ("holdout", "tune", "all"):
        print(f"evaluating extraction ({split}) ...", file=sys.stderr)
        result[f"extraction-{split}"] = captured(["eval", "extraction", labels, "--split", split, "--errors", "0"])
    print("evaluating extraction (generalisation set) ...", file=sys.stderr)
    result["extraction-generalisation"] = captured(
        ["eval", "extraction", "tests/fixtures/extraction_generalisation.jsonl", "--errors", "0"])
    alerts = os.path.relpath(out_dir / "replay-2020.alerts.jsonl", REPO)
    print("replaying the replay-2020 corpus ...", file=sys.stderr)
    replay = captured(["replay", manifest, "--out", alerts])
    result["replay"] = replay.split("all counters:")[0].rstrip() + "\n"
    extracted = os.path.relpath(out_dir / "dev.extracted.jsonl", REPO)
    print("extracting the labelled items ...", file=sys.stderr)
    with contextlib.redirect_stderr(io.StringIO()):
        captured(["extract", labels, "-o", extracted])
    print("evaluating clustering ...", file=sys.stderr)
    result["clustering"] = captured(["eval", "clustering", labels, alerts, "--oracle", "--extracted", extracted])
    return result


def paste(readme: str, name: str, text: str) -> str:
    pattern = re.compile(rf"(<!-- eval:{re.escape(name)}:start -->\n).*?(<!-- eval:{re.escape(name)}:end -->)", re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README has no markers for {name!r}")
    return pattern.sub(lambda m: f"{m.group(1)}```\n{text}```\n{m.group(2)}", readme)


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readme", default=str(REPO / "README.md"))
    parser.add_argument("--data", default=os.environ.get("ALLYWATCH_SHARED_DATA", str(REPO.parent / "shared" / "data")),
                        help="the shared data folder (default: ../shared/data)")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not (data / "labels" / "dev.jsonl").is_file():
        print(f"labelled data not found under {data}; pass --data", file=sys.stderr)
        return 2
    readme_path = Path(args.readme)
    readme = readme_path.read_text(encoding="utf-8")
    out_dir = REPO / "out"
    out_dir.mkdir(exist_ok=True)
    os.chdir(REPO)
    for name, text in reports(data.resolve(), out_dir).items():
        readme = paste(readme, name, text)
    readme_path.write_text(readme, encoding="utf-8")
    print(f"updated {readme_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run())
