"""The headless front end: event lines (or JSON) on stdout, and the commands that need no TUI."""
