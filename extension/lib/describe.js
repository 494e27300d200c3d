// Words and colours for every state a tab can be in, for each copy's link and for
// work still pending. The toolbar badge, the on-page badge, the popup and the
// references page all take their wording from here, so they never disagree.
// The content script cannot import modules, so the service worker sends it a ready
// "view" (badgeView below) instead of raw colours.

// Background and text colour per badge colour. Each pair has a contrast ratio of at
// least 4.5:1 (WCAG AA), and every badge also carries words, so colour is never the
// only signal.
export const COLORS = Object.freeze({
  gold: { bg: "#f2c230", fg: "#1f1f1f" },
  green: { bg: "#1e7b34", fg: "#ffffff" },
  hybrid: { bg: "#1d5fa8", fg: "#ffffff" },
  bronze: { bg: "#8a4b1c", fg: "#ffffff" },
  closed: { bg: "#b3261e", fg: "#ffffff" },
  unknown: { bg: "#5f6368", fg: "#ffffff" },
  problem: { bg: "#6b3fa0", fg: "#ffffff" },
});

const OA_WORDS = {
  gold: "gold open access (free in an open-access journal)",
  hybrid: "hybrid open access (free under an open licence in a subscription journal)",
  bronze: "bronze open access (free to read on the publisher's site)",
  green: "green open access (a free copy in a repository)",
};

const VERSION_WORDS = {
  publishedVersion: "published version",
  acceptedVersion: "accepted manuscript",
  submittedVersion: "preprint (submitted version)",
};

export function versionWords(version) {
  return VERSION_WORDS[version] ?? "version not stated";
}

export function hostOf(url) {
  try {
    return new URL(url).hostname.replace(/^www\./, "");
  } catch {
    return "";
  }
}

// Where a location lives, in words: "arXiv (repository)", "nature.com (publisher)".
export function hostWords(location) {
  const where = location.repository || hostOf(location.url);
  return location.host_type ? `${where} (${location.host_type})` : where;
}

export function oaWords(oaStatus) {
  return OA_WORDS[oaStatus] ?? null;
}

function badgeColorOf(payload) {
  const key = payload?.badge?.color;
  if (key && COLORS[key]) return key;
  if (payload.status === "open") return COLORS[payload.oa_status] ? payload.oa_status : "green";
  return payload.status === "closed" ? "closed" : "unknown";
}

// The sources as people name them ("found by Europe PMC, Unpaywall").
const SOURCE_NAMES = {
  unpaywall: "Unpaywall", europepmc: "Europe PMC", crossref: "Crossref", semanticscholar: "Semantic Scholar",
  openalex: "OpenAlex", arxiv: "arXiv", oab: "Open Access Button", free_by_id: "its identifier", snapshot: "snapshot",
};

export function sourceNames(names) {
  return (names ?? []).map((name) => SOURCE_NAMES[name] ?? name).join(", ");
}

// Why an "unknown" answer is unknown: the sources' errors, in the helper's words. A
// source still being asked (pending) has not failed: pendingWords() says it.
export function sourceProblems(payload) {
  return Object.entries(payload?.sources ?? {})
    .filter(([, s]) => (s.state === "error" || s.state === "retired") && !s.pending)
    .map(([name, s]) => ({ name, code: s.error_code ?? null, message: s.error || `${name}: ${s.state}` }));
}

// --- Work still going on (payload.pending) ---------------------------------------

export function isPending(payload) {
  return (payload?.pending ?? []).length > 0;
}

// What is still going on, as sentences: "Checking the links…", and each busy source
// in the helper's own words ("Semantic Scholar was busy; asking again."), never the
// politeness limiter's.
export function pendingWords(payload) {
  return (payload?.pending ?? []).map((what) => {
    if (what === "links") return "Checking the links…";
    const said = payload.sources?.[what]?.error || `Still asking ${sourceNames([what])}`;
    return /[.…!?]$/.test(said) ? said : `${said}.`;
  });
}

// The extension asked again as often as it does (lib/follow-up.js) and work was still
// going on: the last answer stands, and says so.
export const UNFINISHED_WORDS = "Some checks could not finish.";

// --- A copy's link (location.link, docs/api.md "Link states") --------------------

// Broken copies stay listed, marked, after the others; they are never the best copy.
const BROKEN_WORDS = Object.freeze({
  login: "asks you to sign in",
  paywall: "leads to a paywall",
  gone: "the page is gone",
  wrong_article: "gives another paper",
});

export function linkState(location) {
  return location?.link?.state ?? "unchecked";
}

export function isBroken(location) {
  return Object.hasOwn(BROKEN_WORDS, linkState(location));
}

const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

// "today", or the local date of the check ("2026-12-01"); "" when not known.
function checkedOn(iso, now) {
  const at = iso ? new Date(iso) : null;
  if (!at || Number.isNaN(at.getTime())) return "";
  return day(at) === day(now) ? "today" : day(at);
}

// What opening a copy's link gave, in words: "PDF checked today", "link broken:
// leads to a paywall". `checking`: the helper is still checking the links.
export function linkWords(link, { checking = false, now = new Date() } = {}) {
  const state = link?.state ?? "unchecked";
  const on = checkedOn(link?.checked_at, now);
  switch (state) {
    case "pdf": return `PDF checked ${on}`.trim();
    case "landing": return `article page checked ${on}`.trim();
    case "challenge": return "the site asks your browser to prove it is human: open it";
    case "consent": return "the site asks about cookies first: open it";
    case "error": return "could not be checked just now";
    default:
      if (Object.hasOwn(BROKEN_WORDS, state)) return `link broken: ${BROKEN_WORDS[state]}`;
      return checking ? "checking…" : "not checked yet";
  }
}

// --- The headline of a lookup answer ----------------------------------------------

function sentence(text) {
  return text ? `${text[0].toUpperCase()}${text.slice(1)}${/[.…!?]$/.test(text) ? "" : "."}` : "";
}

// The answer's words before anything about work still going on.
function settledResult(payload) {
  const color = badgeColorOf(payload);
  const best = payload.best;
  if (payload.status === "open" && best) {
    const what = best.pdf_url ? "Free PDF" : "Free copy";
    return {
      color,
      label: what,
      sublabel: payload.oa_status ? `${payload.oa_status} OA` : "open access",
      headline: `${what} available: the ${versionWords(best.version)}, at ${hostOf(best.url)}.`,
      tooltip: payload.badge?.tooltip || `${what}: ${versionWords(best.version)} at ${hostWords(best)}`,
    };
  }
  if (payload.status === "closed") {
    return {
      color,
      label: "No free copy",
      sublabel: payload.actions?.length ? "see options" : "paywalled",
      headline: "No free, legal copy found for this article.",
      tooltip: payload.badge?.tooltip || "No free, legal copy found",
    };
  }
  if (payload.status === "not_found") {
    // Nobody knows the identifier (a typo, or too new to be indexed), or no article
    // matches the typed title: grey, and never read as "paywalled".
    const said = payload.badge?.tooltip || "No source knows this article";
    const cut = said.lastIndexOf(": ");
    const why = cut < 0 ? said : `${said.slice(0, cut)}; ${said.slice(cut + 2)}`;
    return {
      color: "unknown",
      label: "Not found",
      sublabel: "no source knows it",
      headline: `Not found: ${sentence(why)}`,
      tooltip: said,
    };
  }
  if (payload.status === "not_article") {
    return {
      color: "unknown",
      label: "Not an article",
      sublabel: "",
      headline: "This page does not look like a scholarly article (no DOI or citation data found).",
      tooltip: "Not an article",
    };
  }
  // The sources' own problems, else the helper's reason (e.g. "no article matches this title").
  const reason = (payload.badge?.tooltip ?? "").split(": ").slice(1).join(": ");
  const why = sourceProblems(payload).map((p) => p.message).join(" ") || sentence(reason);
  return {
    color: "unknown",
    label: "Could not check",
    sublabel: "no source answered",
    headline: `Could not find out whether a free copy exists.${why ? ` ${why}` : ""}`,
    tooltip: payload.badge?.tooltip || `Could not check: ${why || "no source answered"}`,
  };
}

// The headline of a lookup answer, with what is still going on: `pending` is true
// while the extension asks again; `unfinished` once it stopped asking with work left.
export function describeResult(payload, { unfinished = false } = {}) {
  const d = { ...settledResult(payload), pending: false };
  if (!isPending(payload)) return d;
  if (unfinished) {
    // The helper's words said "asking again", which no longer holds: ours instead.
    const unknown = payload.status === "unknown";
    const headline = `${unknown ? "Could not find out whether a free copy exists." : d.headline} ${UNFINISHED_WORDS}`;
    return { ...d, headline, tooltip: headline, sublabel: unknown ? "checks unfinished" : d.sublabel };
  }
  const waiting = pendingWords(payload).join(" ");
  const links = (payload.pending ?? []).includes("links") ? " (checking the links…)" : "";
  if (payload.status === "unknown") {
    // Nothing is known yet, only that a source is still being asked.
    return { ...d, pending: true, label: "Still checking", sublabel: "asking again", headline: `Still checking. ${waiting}`, tooltip: `${d.tooltip}${links}` };
  }
  return {
    ...d,
    pending: true,
    sublabel: [d.sublabel, "checking…"].filter(Boolean).join(" · "),
    headline: `${d.headline} ${waiting}`,
    tooltip: `${d.tooltip}${links}`,
  };
}

// A reference's answer on the references page (a /v1/batch row's `status`, or
// "checking" while its line is still pending): the pill's words and colour.
const ROW_STATUS = Object.freeze({
  open: { text: "Free", color: "green" },
  closed: { text: "No free copy", color: "closed" },
  not_found: { text: "Not found", color: "unknown" },
  checking: { text: "Checking…", color: "unknown" },
  unknown: { text: "Could not check", color: "unknown" },
  no_identifier: { text: "No identifier", color: "unknown" },
  unreadable: { text: "Unreadable", color: "problem" },
});

export function rowStatus(status) {
  return Object.hasOwn(ROW_STATUS, status) ? ROW_STATUS[status] : ROW_STATUS.unknown;
}

// A page that changed its article more often than oahelper checks on its own
// (content/main.js): said on the toolbar and in the popup.
export const HELD_WORDS = "This page changed its article too often to check each change on its own.";

// The toolbar button's per-tab badge: a short text (so colour is not the only
// signal), a colour and a tooltip that says it in full.
export function toolbarView(state) {
  if (!state) return { text: "", color: "unknown", title: "" };
  if (state.kind === "checking") {
    return { text: "…", color: "unknown", title: "oahelper: checking this article…" };
  }
  if (state.kind === "result") {
    const payload = state.payload;
    const d = describeResult(payload, state);
    // Not found is a neutral mark, never the red "no": nothing says it is paywalled.
    const text = payload.status === "unknown" && d.pending ? "…"
      : { open: "OA", closed: "no", not_found: "–", unknown: "?" }[payload.status] ?? "";
    return { text, color: d.color, title: `oahelper: ${d.headline}` };
  }
  if (state.kind === "error") {
    const text = {
      not_running: "off", not_oahelper: "off", not_paired: "pair", wrong_version: "ver",
    }[state.error.kind] ?? "!";
    return { text, color: "problem", title: `oahelper: ${errorHelp(state.error).title}` };
  }
  if (state.kind === "held") {
    return { text: "", color: "unknown", title: `oahelper: ${HELD_WORDS} Click to check it.` };
  }
  return { text: "", color: "unknown", title: "" };
}

// What the on-page badge shows, or null when it shows nothing. Only answers from the
// helper draw a badge; problems with the helper itself show on the toolbar only, so a
// stopped helper does not put a badge on every article page.
export function badgeView(state) {
  if (state?.kind !== "result") return null;
  const payload = state.payload;
  if (payload.status === "not_article" || payload.badge?.show === false) return null;
  const d = describeResult(payload, state);
  const { bg, fg } = COLORS[d.color];
  const best = payload.best;
  return {
    status: payload.status,
    color: d.color,
    // What is still going on while the extension asks again ("links", a source), or
    // null; `unfinished` once it stopped asking with work left.
    pending: d.pending ? payload.pending.join(" ") : null,
    unfinished: Boolean(state.unfinished && isPending(payload)),
    bg,
    fg,
    label: d.label,
    sublabel: d.sublabel,
    tooltip: d.tooltip,
    bestUrl: best ? best.url : null,
    actions: (payload.actions ?? []).map(({ kind, url, label }) => ({ kind, url, label })),
  };
}

// What to tell the user about a problem with the helper, and what to do about it.
// `command` is shown as copyable text; `action` names a button the popup offers.
export function errorHelp(error, port) {
  const p = error.detail?.port ?? port;
  const portFlag = p && p !== 28757 ? ` --port ${p}` : "";
  switch (error.kind) {
    case "not_running":
      return {
        title: "The oahelper helper is not running.",
        body: `${error.message} Start it in a terminal with the command below.`,
        command: `oahelper serve${portFlag}`,
        action: "retry",
      };
    case "not_oahelper":
      return {
        title: "Another program is using the helper's port.",
        body: `${error.message} Start oahelper on another port (oahelper serve --port N) and set the same port in the settings.`,
        command: "oahelper serve --port 28758",
        action: "options",
      };
    case "not_paired":
      return {
        title: "This browser is not paired with the helper.",
        body: `${error.message} Run the command below, then type the code it prints on the settings page.`,
        command: "oahelper pair",
        action: "options",
      };
    case "wrong_version":
      return error.detail?.direction === "too_new"
        ? {
          title: "The helper is newer than this extension.",
          body: `${error.message} Update the extension (or install the helper version that matches it).`,
          action: "retry",
        }
        : {
          title: "The helper is too old for this extension.",
          body: `${error.message} Update the helper, then restart it.`,
          command: "pip install --upgrade oahelper",
          action: "retry",
        };
    case "refused":
      return {
        title: "The helper refused the request.",
        body: `${error.message} The helper only answers this extension on 127.0.0.1; check the port in the settings.`,
        action: "options",
      };
    case "rate_limited":
      return { title: "Too many tries.", body: error.message, action: "retry" };
    default:
      return { title: "The helper reported a problem.", body: error.message, action: "retry" };
  }
}
