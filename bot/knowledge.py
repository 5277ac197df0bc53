"""Loading knowledge/: taxonomy, language packs. One `Knowledge` object is built at start-up and shared.

Files are validated as they load so a broken data file fails at start, never in the middle of a draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import KnowledgeError

PAYMENT_TAGS = (
    "card_declined", "insufficient_funds", "limit_exceeded", "bank_verification_failed", "billing_info_mismatch",
    "international_transaction_blocked", "network_timeout", "platform_system_error", "pending_payment_order",
    "bank_transfer_delay", "charged_but_unpaid", "duplicate_charge", "installment_failed", "voucher_conflict",
    "unclear",
)  # fmt: skip
ALL_TAGS = (*PAYMENT_TAGS, "not_payment")
AGENT_LANGUAGES = ("en", "zh-CN")


@dataclass(frozen=True, slots=True)
class Tag:
    """One diagnosis: labels for agents and what the agent should do."""

    id: str
    label: dict[str, str]
    priority: int
    follow_up_hours: int
    waits_on_buyer: bool
    next_actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LanguagePack:
    """Everything payfix knows about one buyer language (knowledge/languages/<code>/)."""

    code: str
    name: str
    name_zh: str
    script: str
    segmented: bool
    lingua: str | None
    markers: dict[str, list[str]]
    rules: dict[str, Any]
    replies: dict[str, str]


@dataclass(frozen=True, slots=True)
class Knowledge:
    """The loaded knowledge/ tree."""

    root: Path
    tags: dict[str, Tag]
    actions: dict[str, dict[str, str]]
    languages: dict[str, LanguagePack] = field(default_factory=dict)
    kb_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ui_strings: dict[str, dict[str, str]] = field(default_factory=dict)
    _ui_merged: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def ui(self, agent_language: str) -> dict[str, str]:
        """Agent-facing strings in `agent_language` (en or zh-CN); English fills any gap. Merged once per
        language (every card asks for them); callers read the mapping, never change it."""
        merged = self._ui_merged.get(agent_language)
        if merged is None:
            merged = {**self.ui_strings["en"], **self.ui_strings.get(agent_language, {})}
            self._ui_merged[agent_language] = merged
        return merged

    def label(self, tag: str, agent_language: str) -> str:
        return self.tags[tag].label.get(agent_language) or self.tags[tag].label["en"]

    def action_text(self, action: str, agent_language: str) -> str:
        texts = self.actions[action]
        return texts.get(agent_language) or texts["en"]


# libyaml's C parser when present: the rule files are ~15k lines and start-up time matters for the CLI.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, naming the file in any error."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"Cannot read {path}: {exc}", f"无法读取 {path}：{exc}") from exc


def load_knowledge(root: Path) -> Knowledge:
    """Load taxonomy and every language pack under `root` (the knowledge/ directory)."""
    raw = read_yaml(root / "taxonomy.yaml")
    tags = {
        tid: Tag(
            id=tid,
            label=spec["label"],
            priority=int(spec["priority"]),
            follow_up_hours=int(spec["follow_up_hours"]),
            waits_on_buyer=bool(spec["waits_on_buyer"]),
            next_actions=tuple(spec["next_actions"]),
        )
        for tid, spec in raw["tags"].items()
    }
    missing = set(ALL_TAGS) - set(tags)
    if missing:
        raise KnowledgeError(f"taxonomy.yaml lacks tags {sorted(missing)}", f"taxonomy.yaml 缺少标签 {sorted(missing)}")
    languages = {}
    for lang_dir in sorted(p for p in (root / "languages").iterdir() if p.is_dir()):
        pack = _load_pack(lang_dir)
        languages[pack.code] = pack
    ui = {code: read_yaml(root / "ui" / f"{code}.yaml") for code in AGENT_LANGUAGES}
    terms = {tag: tuple(words) for tag, words in (raw.get("kb_terms") or {}).items()}
    return Knowledge(root=root, tags=tags, actions=raw["actions"], languages=languages, kb_terms=terms, ui_strings=ui)


def _load_pack(lang_dir: Path) -> LanguagePack:
    meta = read_yaml(lang_dir / "language.yaml")
    rules_path, replies_path = lang_dir / "rules.yaml", lang_dir / "replies.yaml"
    rules = read_yaml(rules_path) if rules_path.exists() else {}
    replies = read_yaml(replies_path) if replies_path.exists() else {}
    if meta.get("code") != lang_dir.name:
        raise KnowledgeError(
            f"{lang_dir}/language.yaml: code {meta.get('code')!r} differs from the folder name",
            f"{lang_dir}/language.yaml：code {meta.get('code')!r} 与目录名不一致",
        )
    markers = meta.get("markers") or {}
    return LanguagePack(
        code=meta["code"],
        name=meta["name"],
        name_zh=meta.get("name_zh", meta["name"]),
        script=meta["script"],
        segmented=bool(meta["segmented"]),
        lingua=meta.get("lingua"),
        markers={"strong": list(markers.get("strong") or []), "weak": list(markers.get("weak") or [])},
        rules=rules or {},
        replies={k: str(v).strip() for k, v in (replies or {}).items()},
    )
