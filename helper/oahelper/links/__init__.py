"""What a copy's URL really gives: pdf, landing, challenge, consent, login, paywall,
gone, wrong_article or error (DESIGN §3 and §4, "Link checks").

``pdf`` tells which paper a PDF is, reading it in a bounded child process.
"""

from oahelper.links.pdf import PdfReading, identity, read_first_page, read_first_page_async

__all__ = ["PdfReading", "identity", "read_first_page", "read_first_page_async"]
