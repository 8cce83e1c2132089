"""The former entry point of `make bench`, kept for the commands written with it.

    python -m bench.run [--scale S] [--runs N]   is   python -m bench.pipeline --scales S --runs N
"""

from __future__ import annotations

import argparse

from bench import pipeline


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="10")
    parser.add_argument("--runs", default="3")
    args, rest = parser.parse_known_args(argv)
    return pipeline.main(["--scales", args.scale, "--runs", args.runs, *rest])


if __name__ == "__main__":
    main()
