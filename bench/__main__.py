"""`python -m bench [NAME ...]`: run the benchmarks, print the table, write bench/results.json."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness import RESULTS_PATH, Result, print_table, write_json

PREFIX = "bench_"


def discover() -> dict[str, Callable[[], list[Result]]]:
    """Every bench/bench_*.py module's `run`, keyed by the module name without its prefix."""
    package = Path(__file__).resolve().parent
    found: dict[str, Callable[[], list[Result]]] = {}
    for module in sorted(pkgutil.iter_modules([str(package)]), key=lambda m: m.name):
        if module.name.startswith(PREFIX):
            loaded = importlib.import_module(f"bench.{module.name}")
            found[module.name.removeprefix(PREFIX)] = loaded.run
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks (all by default); exit 1 if any of them failed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--output", type=Path, default=RESULTS_PATH, help="where to write the JSON results"
    )
    args = parser.parse_args(argv)

    registry = discover()
    if args.list:
        print("\n".join(registry))
        return 0
    unknown = sorted(set(args.names) - set(registry))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)} (have: {', '.join(registry)})")

    results: list[Result] = []
    failed: list[str] = []
    began = time.perf_counter()
    for name, run in registry.items():
        if args.names and name not in args.names:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            results.extend(run())
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - began

    print_table(results)
    write_json(results, args.output, seconds=elapsed)
    print(f"\n{len(results)} figures in {elapsed:.1f} s; written to {args.output}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
