"""Build hook: with PAYFIX_COMPILE=1, the per-message hot path is compiled with mypyc.

Same source, no second implementation: mypyc turns these type-annotated modules (`mypy --strict` clean) into C
extensions, which cuts the pipeline's per-message time by about a fifth (BENCHMARKS.md). It needs a C compiler
and the dependencies installed (mypy reads their types), so the Makefile and the Dockerfile compile in a second
step after the dependencies are in; a plain `pip install -e .` gives the same package, interpreted.
A compiled module shadows its `.py`: after editing one, `make` rebuilds it (and pytest refuses a stale build).
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

COMPILED = ["intake", "redact", "textnorm", "prefilter", "language"]


def _extensions() -> list[Extension]:
    if os.environ.get("PAYFIX_COMPILE") != "1":
        return []
    from mypyc.build import mypycify

    return mypycify([f"bot/{name}.py" for name in COMPILED], opt_level="3", group_name="bot")


setup(ext_modules=_extensions())
