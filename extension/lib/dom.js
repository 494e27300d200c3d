// DOM helpers for the extension's own pages (popup, options, references). What the
// helper sends (titles, messages) goes in as text nodes, never as HTML, so a title with
// markup in it stays words.

export const $ = (id) => document.getElementById(id);

// An element with attributes (null and undefined ones left out) and children (nodes or text).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// A link to somewhere else: a new tab, which learns nothing of the page that opened it.
export function link(url, text, attrs = {}) {
  return el("a", { ...attrs, href: url, target: "_blank", rel: "noopener noreferrer" }, text);
}
