"""Which banks, wallets and payment methods a (redacted) buyer message names, from knowledge/payment_methods.yaml.

Latin-script aliases match whole words only, so "ovo" is not found in "ovomaltine"; aliases in scripts
written without spaces (Chinese, Japanese, Thai) match anywhere in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import KnowledgeError
from bot.knowledge import read_yaml

_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class PaymentMethods:
    names: dict[str, str]  # id → display name
    patterns: dict[str, re.Pattern[str]]  # id → one pattern for all its aliases

    @classmethod
    def load(cls, path: Path) -> PaymentMethods:
        raw = read_yaml(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("methods"), dict):
            raise KnowledgeError(f"{path}: expected a 'methods' mapping", f"{path}：缺少 methods 映射")
        names, patterns = {}, {}
        for method_id, spec in raw["methods"].items():
            aliases = [str(a).casefold() for a in spec.get("aliases") or []]
            if not spec.get("name") or not aliases:
                raise KnowledgeError(f"{path}: {method_id} needs a name and aliases",
                                     f"{path}：{method_id} 需要 name 和 aliases")  # fmt: skip
            names[str(method_id)] = str(spec["name"])
            patterns[str(method_id)] = re.compile("|".join(_alias(a) for a in sorted(aliases, key=len, reverse=True)))
        return cls(names, patterns)

    def find(self, text: str) -> list[str]:
        """The ids of the methods named in `text`, sorted."""
        folded = text.casefold()
        return sorted(method for method, pattern in self.patterns.items() if pattern.search(folded))

    def name(self, method_id: str) -> str:
        return self.names.get(method_id, method_id)


def _alias(alias: str) -> str:
    escaped = re.escape(alias)
    return escaped if _UNSPACED.search(alias) else rf"(?<!\w){escaped}(?!\w)"
