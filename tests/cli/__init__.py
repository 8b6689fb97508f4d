"""The command line itself: how it finds its sub-commands."""
