"""The placeholder strings of ``research article new``'s scaffold, defined once.

:func:`research.claims.authoring.new_article` writes them into the scaffold's files, and
:func:`research.claims.authoring.check_article` warns about every one still present, so
a scaffold that was never filled in cannot pass for an article. The example claim
(:data:`EXAMPLE_CLAIM`) quotes :data:`TEXT`'s placeholder sentence: it is marked as the
claim to replace, and the quote check says so when the text has changed but its quote
has not.
"""

from __future__ import annotations

__all__ = ["ARTICLE_FIELDS", "CLAIM_FIELDS", "EXAMPLE_CLAIM", "EXAMPLE_QUOTE", "TEXT"]

#: The example claim's id (the scaffold's one live claim).
EXAMPLE_CLAIM = "outlook"
#: The one sentence of the scaffold's article text, quoted by the example claim.
EXAMPLE_QUOTE = "PLACEHOLDER: paste the article's text here, replacing this line."
#: The scaffold's article text file (``article.md``).
TEXT = EXAMPLE_QUOTE + "\n"
#: article.yaml field -> its placeholder value.
ARTICLE_FIELDS: dict[str, str] = {
    "title": "PLACEHOLDER: Title of the article",
    "source": "PLACEHOLDER: Publisher of the article",
}
#: The example claim's fields -> their placeholder values (the quote is :data:`EXAMPLE_QUOTE`).
CLAIM_FIELDS: dict[str, str] = {
    "title": "PLACEHOLDER: one claim of the article, in a few words",
    "summary": "PLACEHOLDER: what the article says, in one or two sentences.",
    "reason": "PLACEHOLDER: why neither prices nor facts can settle it.",
}
