"""A run's lifecycle, below both front ends: open, start, resume, drive, workers, exit codes."""
