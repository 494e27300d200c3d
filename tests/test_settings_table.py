"""The one declaration: the Settings dataclass and the README's table say what SETTINGS says."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from oahelper.settings import BROWSER_SETTINGS, SETTINGS, Settings, text

README = Path(__file__).resolve().parents[1] / "README.md"
HEADER = "| setting | environment | default | browser | meaning |"
DERIVED = {"config_dir", "data_dir", "origins"}  # Settings fields that are not settings


def readme_rows() -> list[list[str]]:
    """The cells of each row of the README's settings table, in order."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER)  # ValueError: the header row changed
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def test_the_dataclass_has_exactly_the_tables_fields_types_and_defaults() -> None:
    hints = typing.get_type_hints(Settings)
    fields = {f.name: f for f in dataclasses.fields(Settings) if f.name not in DERIVED}
    assert set(fields) == {s.name for s in SETTINGS}
    for s in SETTINGS:
        assert hints[s.name] == (s.type if s.default is not None else s.type | None), s.name
        assert fields[s.name].default == s.default, s.name


def test_the_readme_table_has_one_row_per_setting_in_the_tables_order() -> None:
    assert [row[0] for row in readme_rows()] == [f"`{s.name}`" for s in SETTINGS]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_the_readme_row_says_what_the_table_says(setting) -> None:
    _, env, default, browser, meaning = next(r for r in readme_rows() if r[0] == f"`{setting.name}`")
    assert env == f"`{setting.env}`"
    shown = text(setting.default)
    if shown is None:  # unset: "none", or "none (what that means)"
        assert default == "none" or default.startswith("none ("), default
    else:
        assert default == f"`{shown}`"
    assert browser == ("yes" if setting.browser else "no")
    assert meaning


def test_a_browser_sets_the_users_choices_only() -> None:
    # Design section 7: e-mail, library, links, sources on/off, offline. Widening this
    # list lets any paired browser change it: say why in the change that does.
    assert set(BROWSER_SETTINGS) == {"unpaywall_email", "openurl_base", "library_api", "ezproxy_prefix",
                                     "ill_url", "ill_email", "verify_links", "disabled_sources", "offline"}
    assert not any(s.upstream for s in SETTINGS if s.browser)


def test_only_the_sources_base_urls_are_trusted_upstreams() -> None:
    # Their origins may be private (a mirror); a browser-settable URL or Zotero's
    # local API on localhost must not widen where the sources' session may go.
    assert {s.name for s in SETTINGS if s.upstream} == {
        "unpaywall_url", "oab_url", "europepmc_url", "crossref_url", "semanticscholar_url",
        "openalex_url", "arxiv_url", "oaworks_url", "openpolicyfinder_url"}


def test_every_setting_has_help_and_every_default_passes_its_own_check() -> None:
    for s in SETTINGS:
        assert s.help.strip(), s.name
        if s.check and s.default not in (None, ()):
            assert s.check(s.name, s.default) is None, s.name
