"""User-safe errors.

Every error an agent or CLI user can see is a `PayfixError` with a stable code and a message in English and
Simplified Chinese. Anything else is a bug: it is logged with its traceback and shown as `internal`.
"""

from __future__ import annotations


class PayfixError(Exception):
    """An error whose message is safe to show to an agent (no secrets, no stack trace)."""

    code = "error"
    exit_code = 1

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh

    def message(self, language: str) -> str:
        """The message in the agent's language (zh-CN or en)."""
        return self.zh if language.startswith("zh") else self.en


class InputError(PayfixError):
    """The buyer text cannot be processed (empty, binary, not UTF-8...)."""

    code = "bad_input"
    exit_code = 2


class ConfigError(PayfixError):
    """Configuration is missing or invalid; raised at start-up, never mid-request."""

    code = "config"
    exit_code = 3


class KnowledgeError(PayfixError):
    """The data in knowledge/ or prompts/ is inconsistent (caught by `payfix kb check`)."""

    code = "knowledge"
    exit_code = 4


class TemplateError(KnowledgeError):
    """A prompt template referenced a variable that was not supplied."""

    code = "template"


class LLMUnavailable(Exception):
    """The LLM could not produce a valid answer; the pipeline falls back to the KB drafter.

    Not a PayfixError: it never reaches an agent, it only selects the fallback path.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
