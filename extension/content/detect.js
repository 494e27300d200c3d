// Is this page a scholarly article? Decided here, in the page, without asking
// anyone: only pages that say so in their metadata are sent to the helper, so the
// URL and HTML of every other page stay in the browser.
//
// The answer is a "signature": the scholarly metadata found, as one string, or ""
// when there is none. main.js compares signatures to notice when a single-page site
// swaps one article for another without a reload.

(() => {
  const oahelper = (globalThis.oahelper ??= {});

  // A DOI: "10." + a 4-9 digit registrant + "/" + a suffix. CiteSeerX ids (10.1.1.x)
  // do not match, since their registrant is one digit.
  const DOI = /(?:^|[^0-9])10\.\d{4,9}\/\S+/;

  // Highwire (Google Scholar), bepress and EPrints tags are only ever written for
  // scholarly works; any one of them is enough.
  const SCHOLARLY_PREFIX = /^(citation_|bepress_citation_|eprints\.)/;

  // Dublin Core, PRISM and plain "doi" tags are also used by news and shop pages, so
  // they count only when they carry a DOI (or say scheme="doi").
  const DOI_TAGS = new Set([
    "dc.identifier", "dcterms.identifier", "dc.identifier.doi", "dc.doi",
    "prism.doi", "doi",
  ]);

  // Meta names match case-insensitively across name, property, itemprop and id.
  function metaName(meta) {
    for (const attr of ["name", "property", "itemprop", "id"]) {
      const value = meta.getAttribute(attr);
      if (value) return value.trim().toLowerCase();
    }
    return "";
  }

  function isScholarlyMeta(name, meta) {
    if (SCHOLARLY_PREFIX.test(name)) return true;
    if (!DOI_TAGS.has(name)) return false;
    const content = meta.getAttribute("content") ?? "";
    return /^doi$/i.test(meta.getAttribute("scheme") ?? "") || DOI.test(content);
  }

  // JSON-LD that calls the page a ScholarlyArticle (or MedicalScholarlyArticle).
  function jsonLdScholarly(doc) {
    for (const script of doc.querySelectorAll('script[type="application/ld+json"]')) {
      if (/"@type"\s*:\s*(\[[^\]]*)?"(Medical)?ScholarlyArticle"/.test(script.textContent ?? "")) {
        return true;
      }
    }
    return false;
  }

  oahelper.scholarlySignature = (doc = document) => {
    const parts = [];
    for (const meta of doc.querySelectorAll("meta")) {
      const name = metaName(meta);
      if (name && isScholarlyMeta(name, meta)) {
        parts.push(`${name}=${(meta.getAttribute("content") ?? "").trim()}`);
      }
    }
    if (jsonLdScholarly(doc)) parts.push("json-ld=ScholarlyArticle");
    return parts.join("\n");
  };
})();
