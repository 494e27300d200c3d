"""What a copy's URL really gives: pdf, landing, challenge, consent, login, paywall,
gone, wrong_article or error (DESIGN §3 and §4, "Link checks").

Pure core: ``classify`` reads one fetched answer (``LinkResponse``) for one article
(``ArticleRef``); ``pdf`` tells which paper a PDF is, reading it in a bounded child
process. The network part (fetching under the address policy) lives elsewhere.
"""

from oahelper.links.classify import after_pdf_hop, classify, is_pdf, pdf_body
from oahelper.links.pdf import PdfReading, identity, read_first_page, read_first_page_async
from oahelper.links.verdict import (
    BROKEN_STATES,
    LINK_STATES,
    WORKING_STATES,
    ArticleRef,
    LinkResponse,
    LinkState,
    LinkVerdict,
)

__all__ = [
    "BROKEN_STATES", "LINK_STATES", "WORKING_STATES", "ArticleRef", "LinkResponse", "LinkState",
    "LinkVerdict", "PdfReading", "after_pdf_hop", "classify", "identity", "is_pdf", "pdf_body",
    "read_first_page", "read_first_page_async",
]
