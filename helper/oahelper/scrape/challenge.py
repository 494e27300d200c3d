"""Recognising a bot-challenge interstitial served instead of the article.

Such a page (Cloudflare's "Just a moment...", DataDome, Imperva…) carries no
metadata of the article, and whatever it does carry is the challenge's, so the
scraper takes nothing from its HTML. Cloudflare also injects a harmless
``/cdn-cgi/challenge-platform/`` script into ordinary pages, so that path alone
proves nothing; the markers below appear only on the challenge itself.
"""

from __future__ import annotations

from oahelper.scrape.document import Page
from oahelper.scrape.vocab import CITATION_PREFIXES

CHALLENGE_TITLES = frozenset({
    "just a moment...", "just a moment…", "attention required! | cloudflare",
    "please wait... | cloudflare", "one moment, please...", "checking your browser",
    "ddos-guard", "access to this page has been denied", "are you a robot?",
    "verifying you are human", "client challenge",
})
CHALLENGE_MARKERS = (
    "window._cf_chl_opt", "cf-browser-verification", "id=\"challenge-error-text\"",
    "captcha-delivery.com", "_Incapsula_Resource", "px-captcha", "ddos-guard.net/",
)
# Interstitials are small; markers are looked for only this far into the text.
_MARKER_WINDOW = 64 * 1024


def is_challenge(page: Page) -> bool:
    """True when the page is a bot challenge rather than the article.

    The markers are the challenge's own scripts and ids, so they decide alone.
    A challenge title is weaker evidence (an article could be called "Just a
    moment..."), so it counts only on a page with no citation tags.
    """
    window = page.text[:_MARKER_WINDOW]
    if any(marker in window for marker in CHALLENGE_MARKERS):
        return True
    if (page.title_tag or "").lower() not in CHALLENGE_TITLES:
        return False
    return not any(name.startswith(CITATION_PREFIXES) for name in page.meta_names_seen)
