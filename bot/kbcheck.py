"""`payfix kb check`: every data file is well-formed and everything that should exist does.

Checks: taxonomy tags and actions; KB front matter, anchors and a playbook for every payment tag; each language
pack has its three files, rules for every tag, a reply for every tag, no unknown tags or files; prompts render.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.errors import KnowledgeError
from bot.kb import parse_article
from bot.knowledge import PAYMENT_TAGS, Knowledge, LanguagePack, load_knowledge
from bot.prompts import count_tokens, load_templates

PACK_FILES = {"language.yaml", "rules.yaml", "replies.yaml"}
TEMPLATE_VARS = {
    "system": {"taxonomy"},
    "draft": {"platform", "buyer_language", "agent_language", "candidates", "knowledge", "buyer_message"},
}


def check(settings: Settings) -> list[str]:
    """All problems found (an empty list means the knowledge tree is sound)."""
    try:
        knowledge = load_knowledge(settings.knowledge_dir)
    except (KnowledgeError, KeyError, TypeError) as exc:
        return [f"cannot load knowledge: {exc}"]
    problems = _taxonomy(knowledge)
    problems += _articles(settings.knowledge_dir / "kb")
    for pack in knowledge.languages.values():
        problems += _pack(pack, settings.knowledge_dir / "languages" / pack.code)
    for code in ("en", "zh-CN"):
        if code not in knowledge.languages:
            problems.append(f"languages/{code}: the agent language {code} needs a language pack")
    problems += _templates(settings.prompts_dir)
    return problems


def _taxonomy(knowledge: Knowledge) -> list[str]:
    problems = []
    for tag in knowledge.tags.values():
        for action in tag.next_actions:
            if action not in knowledge.actions:
                problems.append(f"taxonomy.yaml: {tag.id} names unknown action {action!r}")
        for lang in ("en", "zh-CN"):
            if not tag.label.get(lang):
                problems.append(f"taxonomy.yaml: {tag.id} lacks a {lang} label")
    return problems


def _articles(directory: Path) -> list[str]:
    problems, covered = [], set()
    for path in sorted(directory.glob("*.md")):
        try:
            article = parse_article(path, count_tokens)
        except (KnowledgeError, ValueError) as exc:
            problems.append(str(exc))
            continue
        unknown = set(article.diagnoses) - {*PAYMENT_TAGS, "all"}
        if unknown:
            problems.append(f"kb/{path.name}: unknown diagnoses {sorted(unknown)}")
        covered |= set(article.diagnoses)
    problems += [f"kb/: no article serves {tag}" for tag in PAYMENT_TAGS if tag not in covered]
    return problems


def _pack(pack: LanguagePack, directory: Path) -> list[str]:
    where = f"languages/{pack.code}"
    problems = [f"{where}/{p.name}: unused file (expected {sorted(PACK_FILES)})"
                for p in sorted(directory.iterdir()) if p.name not in PACK_FILES]  # fmt: skip
    problems += [f"{where}/{name}: missing" for name in sorted(PACK_FILES) if not (directory / name).exists()]
    tags = pack.rules.get("tags") or {}
    problems += [f"{where}/rules.yaml: unknown tag {tag!r}" for tag in tags if tag not in PAYMENT_TAGS]
    for tag in PAYMENT_TAGS:
        levels = tags.get(tag) or {}
        if not any(levels.get(level) for level in ("strong", "weak")):
            problems.append(f"{where}/rules.yaml: no phrases for {tag}")
        unknown_levels = set(levels) - {"strong", "weak"}
        if unknown_levels:
            problems.append(f"{where}/rules.yaml: {tag} has unknown levels {sorted(unknown_levels)}")
        if not pack.replies.get(tag):
            problems.append(f"{where}/replies.yaml: no reply for {tag}")
    problems += [f"{where}/replies.yaml: unknown tag {tag!r}" for tag in pack.replies if tag not in PAYMENT_TAGS]
    if not pack.rules.get("context"):
        problems.append(f"{where}/rules.yaml: no context words")
    if not pack.rules.get("negatives"):
        problems.append(f"{where}/rules.yaml: no negatives")
    return problems


def _templates(directory: Path) -> list[str]:
    templates = load_templates(directory)
    problems = []
    for name, expected in TEMPLATE_VARS.items():
        if name not in templates:
            problems.append(f"prompts/{name}.md: missing")
        elif templates[name].variables != expected:
            problems.append(f"prompts/{name}.md: variables {sorted(templates[name].variables)} != {sorted(expected)}")
    return problems
