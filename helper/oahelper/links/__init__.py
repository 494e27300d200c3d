"""What a copy's URL really gives: pdf, landing, challenge, consent, login, paywall,
gone, wrong_article or error (docs/api.md, "Link states"). A pure core, and
the network part that opens the link under net/'s address policy:

- ``check``: ``LinkChecker`` (one GET read as far as the class needs, a landing
  page's PDF link one hop further, one flight per URL, two checks at once per host,
  bulk ones a second apart, verdicts kept in a ``LinkStore``), ``CheckedLink``,
  ``LinkReport``.

- ``classify``: ``classify(response, article, pdf=None) -> LinkVerdict``, by the bytes;
  ``pdf_body`` and ``after_pdf_hop`` for the two extra steps of a check.
- ``verdict``: ``LinkResponse``, ``ArticleRef``, ``LinkVerdict`` and the states.
- ``markers``: the marks of each state, as tables, each row naming its recording.
- ``page``: decoding an HTML answer and the facts of its one parsed tree.
- ``pdf``: which paper a PDF is (``identity``), read under a budget
  (``read_first_page``, ``read_first_page_async``) by ``pdf_worker`` in a child process.
- ``matching``: DOI and title comparisons shared by pages and PDFs.

Nothing is imported here: ``python -m oahelper.links.pdf_worker`` starts with pypdf alone.
"""
