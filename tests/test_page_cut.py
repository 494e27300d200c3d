"""The extension leaves the code of a page's JavaScript out of what it sends
(extension/content/page.js), except on the sites whose scraper rule reads it: the
two lists of those sites must be the same one."""

from __future__ import annotations

import json
import re

from oahelper.scrape.sites import SITE_RULES
from tests.support.shared import REPO


def test_the_extension_sends_whole_pages_on_every_site_with_a_rule() -> None:
    source = (REPO / "extension" / "content" / "page.js").read_text(encoding="utf-8")
    found = re.search(r"const SITE_HOSTS = (\[[^\]]*\]);", source)
    assert found, "page.js has no SITE_HOSTS list"
    assert sorted(json.loads(found.group(1))) == sorted(rule.host for rule in SITE_RULES)
