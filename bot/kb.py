"""The knowledge base: Markdown articles with front matter, split into cited sections.

Retrieval is deliberately simple and explainable: the playbook of the diagnosis and the platform article's
section that best matches the tag's terms, trimmed to a token budget so the prompt stays small. The general
principles are not retrieved: their rules are already in the system prompt's policy (the cached prefix).
Citations are `<article>#<section>` ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import KnowledgeError

_FRONT = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
_HEADING = re.compile(r"^## (.+?) \{#([a-z0-9_-]+)\}\s*$", re.M)


@dataclass(frozen=True, slots=True)
class Section:
    id: str  # article#slug
    article: str
    title: str
    body: str
    tokens: int


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    title_zh: str
    platforms: tuple[str, ...]
    diagnoses: tuple[str, ...]
    sections: tuple[Section, ...]


def parse_article(path: Path, count_tokens: Callable[[str], int]) -> Article:
    """Parse one article; any structural problem is a KnowledgeError naming the file."""
    match = _FRONT.match(path.read_text(encoding="utf-8"))
    if not match:
        raise KnowledgeError(f"{path}: missing front matter", f"{path}：缺少 front matter")
    meta = yaml.safe_load(match.group(1)) or {}
    for key in ("id", "title", "platforms", "diagnoses"):
        if key not in meta:
            raise KnowledgeError(f"{path}: front matter lacks '{key}'", f"{path}：front matter 缺少 '{key}'")
    if meta["id"] != path.stem:
        raise KnowledgeError(f"{path}: id {meta['id']!r} differs from the file name", f"{path}：id 与文件名不一致")
    body = match.group(2)
    heads = list(_HEADING.finditer(body))
    if not heads:
        raise KnowledgeError(f"{path}: no '## Title {{#anchor}}' sections", f"{path}：没有带锚点的二级标题")
    sections = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        text = body[head.end() : end].strip()
        sid = f"{meta['id']}#{head.group(2)}"
        sections.append(Section(sid, meta["id"], head.group(1).strip(), text, count_tokens(text)))
    return Article(
        id=meta["id"],
        title=meta["title"],
        title_zh=meta.get("title_zh", meta["title"]),
        platforms=tuple(meta["platforms"]),
        diagnoses=tuple(meta["diagnoses"]),
        sections=tuple(sections),
    )


class KnowledgeBase:
    """All articles, indexed for retrieval by diagnosis and platform."""

    def __init__(self, articles: list[Article], terms: dict[str, tuple[str, ...]]) -> None:
        self.articles = {a.id: a for a in articles}
        self.sections = {s.id: s for a in articles for s in a.sections}
        self._terms = terms
        self._retrieved: dict[tuple[str, str, int], list[Section]] = {}

    @classmethod
    def load(
        cls, directory: Path, terms: dict[str, tuple[str, ...]], count_tokens: Callable[[str], int]
    ) -> KnowledgeBase:
        return cls([parse_article(p, count_tokens) for p in sorted(directory.glob("*.md"))], terms)

    def retrieve(self, *, diagnosis: str, platform: str, budget_tokens: int) -> list[Section]:
        """Sections for one draft, most important first, within `budget_tokens`.

        The choice depends only on static data, so it is computed once per (diagnosis, platform, budget).
        """
        key = (diagnosis, platform, budget_tokens)
        if key not in self._retrieved:
            self._retrieved[key] = self._select(diagnosis=diagnosis, platform=platform, budget_tokens=budget_tokens)
        return list(self._retrieved[key])

    def _select(self, *, diagnosis: str, platform: str, budget_tokens: int) -> list[Section]:
        wanted: list[Section] = []
        playbook = self.articles.get(diagnosis)
        if playbook:
            order = ("advise", "ask", "reply") if diagnosis == "unclear" else ("advise", "reply", "ask", "agent")
            by_slug = {s.id.split("#", 1)[1]: s for s in playbook.sections}
            wanted += [by_slug[slug] for slug in order if slug in by_slug]
        wanted[2:2] = self._platform_sections(diagnosis, platform)
        chosen, used = [], 0
        for section in wanted:
            if used + section.tokens <= budget_tokens:
                chosen.append(section)
                used += section.tokens
        return chosen

    def _platform_sections(self, diagnosis: str, platform: str) -> list[Section]:
        terms = self._terms.get(diagnosis, ())
        scored = []
        for article in self.articles.values():
            if platform not in article.platforms or "all" in article.platforms:
                continue
            for section in article.sections:
                haystack = f"{section.title} {section.body}".lower()
                hits = sum(haystack.count(t) for t in terms)
                if hits:
                    scored.append((hits, section))
        scored.sort(key=lambda hs: -hs[0])
        return [s for _, s in scored[:1]]
