"""From what the user has to an identified article.

``resolver.Resolver`` turns an Article without a usable DOI into one with identifiers:
a PMID or PMCID through Europe PMC, an arXiv id through arXiv (the publisher DOI), a
title or a pasted reference through the search sources, accepting a hit only when
``match.same_work`` says it is the same work. Never a best guess.
"""
