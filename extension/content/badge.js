// The on-page badge: a small tab at the right edge of the window.
//
// It must never shift or break the page: it is one element hung on <html> (not in
// the page's flow), fixed in place, and everything inside it lives in a shadow root
// so page CSS cannot reach in and our CSS cannot leak out.
//
// The shadow root is closed, and this script keeps the only reference to it: the
// page's scripts cannot read what is inside (the library link names the user's
// institution). What the page can see is the host element with the stable hooks:
// id "oahelper-badge", data-status, data-color, on a free article data-best-url
// (the free copy's public address, which the badge's link opens), data-pending while
// the extension asks the helper again ("links": its link checks are still running),
// and data-unfinished when it stopped asking with work left.
//
// The service worker sends a ready "view" (see lib/describe.js badgeView): words,
// colours, the link to the best copy, the actions. This file only draws it.

(() => {
  const oahelper = (globalThis.oahelper ??= {});
  const HOST_ID = "oahelper-badge";

  // Icons say the status without colour: an open lock, a closed lock, a magnifier
  // (not found: no source knows it), a question mark.
  const ICON_PATHS = {
    not_found: "M15.5 14h-.79l-.28-.27A6.47 6.47 0 0 0 16 9.5 6.5 6.5 0 1 0 9.5 16c1.61 0 3.09-.59 4.23-1.57l.27.28v.79l5 4.99L20.49 19l-4.99-5Zm-6 0A4.5 4.5 0 1 1 14 9.5 4.49 4.49 0 0 1 9.5 14Z",
    open: "M12 17a2 2 0 1 0 0-4 2 2 0 0 0 0 4Zm6-9h-8V6a2 2 0 0 1 4 0h2a4 4 0 0 0-8 0v2H6a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V10a2 2 0 0 0-2-2Zm0 12H6V10h12v10Z",
    closed: "M12 17a2 2 0 1 0 0-4 2 2 0 0 0 0 4Zm6-9h-1V6a5 5 0 0 0-10 0v2H6a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V10a2 2 0 0 0-2-2ZM9 6a3 3 0 0 1 6 0v2H9V6Zm9 14H6V10h12v10Z",
    unknown: "M11 18h2v-2h-2v2Zm1-16a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm0-14a4 4 0 0 0-4 4h2a2 2 0 1 1 4 0c0 2-3 1.75-3 5h2c0-2.25 3-2.5 3-5a4 4 0 0 0-4-4Z",
  };

  // Sizes in px on purpose: rem would follow the page's own root font size, which
  // sites set to anything. Browser zoom still scales px.
  const CSS = `
    :host { all: initial; }
    @media print { :host { display: none !important; } }
    .tab {
      position: relative; display: flex; align-items: stretch;
      font: 600 14px/1.25 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
      direction: ltr; text-align: left;
      background: var(--bg); color: var(--fg);
      border-radius: 8px 0 0 8px;
      box-shadow: 0 2px 8px rgba(0, 0, 0, 0.35);
      max-width: min(260px, 60vw);
    }
    .main {
      display: flex; align-items: center; gap: 8px;
      padding: 8px 10px; margin: 0;
      color: inherit; background: none; border: 0; border-radius: 8px 0 0 8px;
      font: inherit; text-decoration: none; cursor: pointer; text-align: left;
    }
    .main:hover .label { text-decoration: underline; }
    .icon { display: flex; flex: none; }
    .words { display: flex; flex-direction: column; min-width: 0; }
    .sub { font-weight: 400; font-size: 12px; }
    .close {
      margin: 0; padding: 0 8px; min-width: 28px;
      color: inherit; background: none; border: 0;
      border-left: 1px solid color-mix(in srgb, currentColor 35%, transparent);
      font: 700 16px/1 system-ui, sans-serif; cursor: pointer;
    }
    a:focus-visible, button:focus-visible {
      outline: 3px solid var(--fg); outline-offset: -5px;
    }
    .panel {
      position: absolute; right: 0; top: 100%; margin-top: 4px;
      width: max-content; max-width: min(320px, 80vw);
      background: #ffffff; color: #1f1f1f;
      border: 1px solid #5f6368; border-radius: 8px 0 8px 8px;
      box-shadow: 0 2px 8px rgba(0, 0, 0, 0.35);
      padding: 8px 12px;
      font: 400 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    }
    .panel[hidden] { display: none; }
    .panel p { margin: 0 0 6px; }
    .panel ul { margin: 0; padding: 0 0 0 18px; }
    .panel a { color: #0b57d0; }
    .panel a:focus-visible { outline: 3px solid #0b57d0; outline-offset: 1px; }
  `;

  let host = null;
  let dismissedUrl = null;

  function remove() {
    host?.remove();
    host = null;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined) node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  function icon(status) {
    const SVG = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(SVG, "svg");
    for (const [name, value] of Object.entries({
      viewBox: "0 0 24 24", width: "18", height: "18", "aria-hidden": "true", focusable: "false",
    })) svg.setAttribute(name, value);
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", ICON_PATHS[status] ?? ICON_PATHS.unknown);
    svg.append(path);
    return el("span", { class: "icon" }, svg);
  }

  function words(view) {
    return el("span", { class: "words" },
      el("span", { class: "label" }, view.label),
      view.sublabel ? el("span", { class: "sub" }, view.sublabel) : "");
  }

  // Open: the whole tab is a link to the best free copy.
  function openLink(view) {
    return el("a", {
      class: "main", href: view.bestUrl, target: "_blank", rel: "noopener noreferrer",
      title: view.tooltip, "aria-label": `oahelper: ${view.tooltip} (opens in a new tab)`,
    }, icon("open"), words(view));
  }

  // Closed, not found or unknown: the tab opens a small panel with what the user can do.
  function panelButton(view, panel) {
    const button = el("button", {
      class: "main", type: "button", title: view.tooltip, "aria-expanded": "false",
      "aria-controls": "oahelper-panel", "aria-label": `oahelper: ${view.tooltip}`,
    }, icon(view.status), words(view));
    button.addEventListener("click", () => {
      const opening = panel.hidden;
      panel.hidden = !opening;
      button.setAttribute("aria-expanded", String(opening));
    });
    return button;
  }

  function panelFor(view) {
    const panel = el("div", { class: "panel", id: "oahelper-panel", hidden: "" },
      el("p", {}, view.tooltip));
    if (view.actions.length) {
      panel.append(el("ul", {}, ...view.actions.map((action) => el("li", {},
        el("a", { href: action.url, target: "_blank", rel: "noopener noreferrer", "data-kind": action.kind },
          action.label)))));
    }
    return panel;
  }

  function show(view) {
    remove();
    if (!view || dismissedUrl === location.href) return;
    host = document.createElement("div");
    host.id = HOST_ID;
    host.dataset.status = view.status;
    host.dataset.color = view.color;
    if (view.status === "open" && view.bestUrl) host.dataset.bestUrl = view.bestUrl;
    if (view.pending) host.dataset.pending = view.pending;
    if (view.unfinished) host.dataset.unfinished = "";
    // Inline !important beats any page rule aimed at the host element.
    const fixed = {
      all: "initial", position: "fixed", top: "35%", right: "0", "z-index": "2147483647",
      display: "block", margin: "0", padding: "0", border: "0",
    };
    for (const [prop, value] of Object.entries(fixed)) host.style.setProperty(prop, value, "important");

    const root = host.attachShadow({ mode: "closed" });
    const style = el("style", {}, CSS);
    const tab = el("aside", { class: "tab", "aria-label": "oahelper" });
    tab.style.setProperty("--bg", view.bg);
    tab.style.setProperty("--fg", view.fg);
    if (view.status === "open" && view.bestUrl) {
      tab.append(openLink(view));
    } else {
      const panel = panelFor(view);
      tab.append(panelButton(view, panel), panel);
    }
    const close = el("button", {
      class: "close", type: "button", title: "Hide on this page",
      "aria-label": "Hide the oahelper badge on this page",
    }, "×");
    close.addEventListener("click", () => {
      dismissedUrl = location.href;
      remove();
    });
    tab.append(close);
    root.append(style, tab);
    document.documentElement.append(host);
  }

  oahelper.badge = { show, remove };
})();
