"""The dev server's processes: the command line, the supervisor, the pre-warmed standby."""
