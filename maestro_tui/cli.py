"""Command line: parses arguments, picks the headless or TUI front end, maps errors to exit codes."""

from __future__ import annotations

import argparse
import sys

from maestro_tui import __version__

EXIT_OK, EXIT_TASK_FAILED, EXIT_BAD_INPUT, EXIT_REVIEW = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maestro-tui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"maestro-tui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    build_parser().parse_args(argv)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
