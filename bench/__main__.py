"""`python -m bench NAME [--people N] [--seed S]`; `python -m bench all` runs every benchmark,
each in its own process (each sets up Django against its own database)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from bench import BENCHMARKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--people", type=int, default=None, help="Size of the data set.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=200, help="Timed runs per figure.")
    args = parser.parse_args(argv)
    if args.name == "all":
        failed = 0
        for name in BENCHMARKS:
            command = [sys.executable, "-m", "bench", name, "--seed", str(args.seed)]
            command += ["--iterations", str(args.iterations)]
            if args.people is not None:
                command += ["--people", str(args.people)]
            failed += subprocess.call(command) != 0  # noqa: S603
        return 1 if failed else 0
    module = importlib.import_module(BENCHMARKS[args.name][0])
    options = {"seed": args.seed, "iterations": args.iterations}
    if args.people is not None:
        options["people"] = args.people
    module.run(**options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
