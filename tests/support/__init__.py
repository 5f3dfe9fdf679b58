"""What the tests and the benchmarks share: a real server process and its websocket tabs
(``server``), an app written to disk (``apps``), one Chromium launcher (``browser``), the real
htmx (``htmx``) and what a running server holds, read from outside (``probes``).

Nothing here is a test; ``benchmarks/`` imports from here, never from a test module.
"""
