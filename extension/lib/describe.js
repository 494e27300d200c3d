// Words and colours for every state a tab can be in. The toolbar badge, the on-page
// badge and the popup all take their wording from here, so the three never disagree.
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

// Why an "unknown" answer is unknown: the first source error, in the helper's words.
export function sourceProblems(payload) {
  return Object.entries(payload?.sources ?? {})
    .filter(([, s]) => s.state === "error" || s.state === "retired")
    .map(([name, s]) => ({ name, code: s.error_code ?? null, message: s.error || `${name}: ${s.state}` }));
}

// The headline of a lookup answer.
export function describeResult(payload) {
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
  const why = sourceProblems(payload).map((p) => p.message).join(" ")
    || (reason ? `${reason[0].toUpperCase()}${reason.slice(1)}.` : "");
  return {
    color: "unknown",
    label: "Could not check",
    sublabel: "no source answered",
    headline: `Could not find out whether a free copy exists.${why ? ` ${why}` : ""}`,
    tooltip: payload.badge?.tooltip || `Could not check: ${why || "no source answered"}`,
  };
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
    const d = describeResult(payload);
    const text = { open: "OA", closed: "no", unknown: "?" }[payload.status] ?? "";
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
  const d = describeResult(payload);
  const { bg, fg } = COLORS[d.color];
  const best = payload.best;
  return {
    status: payload.status,
    color: d.color,
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
