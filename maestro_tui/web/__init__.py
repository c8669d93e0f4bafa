"""The TUI in a browser: `maestro-tui serve`, through textual-serve, behind a URL token.

textual-serve (the `serve` extra) is imported only by this package's server modules, and
this package only by the `serve` command, so `--help` and the terminal UI never load it.
"""
