"""Telling the human: the terminal bell and desktop notifications, notify-send, a user's hook."""
