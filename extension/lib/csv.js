// CSV for spreadsheets: no cell is ever read as a formula. The rule is the helper's,
// helper/oahelper/audit/csvcell.py, character for character (a test runs the same
// payloads through both and compares the bytes):
// - which cells are numbers is the schema's (`numeric`), never the value's: a number
//   column holding a number is written bare; everything else is text ("-1" too);
// - every text cell is quoted, embedded quotes doubled; an empty cell is "";
// - a text cell gets a leading ' when, past what an application may drop (controls,
//   spaces, invisible characters, quotes: SKIP), it starts with = + - @ or a form of
//   them (TRIGGERS), or when it starts with a tab or line break at all; and the same
//   guard goes after every ; tab CR LF inside it, where a spreadsheet of a `;` locale
//   or a tab reader would start a new cell ("a;=1" becomes "a;'=1").

// = + - @, what NFKC folds into text starting with one (full-width, small, super- and
// subscript forms, ⩵ ⩶, the Hebrew alternative plus), and U+2212 MINUS SIGN.
const TRIGGERS = "=+\\-@\u207a\u207c\u208a\u208c\u2a75\u2a76\ufb29\ufe62\ufe63\ufe66\ufe6b\uff0b\uff0d\uff1d\uff20\u2212";
// What an application may drop before it reads a cell: the control, format and space
// characters of the Basic Multilingual Plane (Cc, Cf, Zs, Zl, Zp), and the double quote.
const SKIP = "\\x00-\\x20\\x7f-\\xa0\\xad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891" +
  "\\u08e2\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\ufeff\\ufff9-\\ufffb\"";
const SPLITS = ";\\t\\r\\n";
export const GUARD_PATTERN = `(?:^|(?<=[${SPLITS}]))(?=[${SKIP}]*[${TRIGGERS}])|^(?=[\\t\\r\\n])`;
const GUARD = new RegExp(GUARD_PATTERN, "g");

// The number columns of `oahelper audit`'s report (helper/oahelper/audit/rows.py; a
// test checks that the helper's schema says the same).
export const REPORT_NUMBERS = Object.freeze(["line", "match_score", "year", "free_copies"]);

export function guard(text) {
  return text.replace(GUARD, "'");
}

function quoted(text) {
  return `"${guard(text).replaceAll('"', '""')}"`;
}

function textCell(value) {
  if (value === null || value === undefined) return '""';
  if (typeof value === "boolean") return value ? '"yes"' : '"no"';
  return quoted(String(value));
}

function cell(value, number) {
  if (number && (typeof value === "number" || value === null || value === undefined)) {
    return typeof value === "number" ? String(value) : '""';
  }
  return textCell(value);
}

// The file's text: a BOM (spreadsheets then read UTF-8), a header line of `columns`,
// one line per row (an object by column name), CRLF after each.
export function csvText(columns, rows, numeric = []) {
  const numbers = columns.map((c) => numeric.includes(c));
  const lines = [columns.map((c) => textCell(c)),
    ...rows.map((row) => columns.map((c, i) => cell(row[c], numbers[i])))];
  return "\ufeff" + lines.map((cells) => cells.join(",") + "\r\n").join("");
}
