// Sort and filter the report's table, without a server. Kept small on purpose.
(() => {
  const table = document.getElementById("items");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const filter = document.getElementById("filter");
  const status = document.getElementById("status-filter");
  const shown = document.getElementById("shown");
  const text = new Map(rows.map((row) => [row, row.textContent.toLowerCase()]));

  function key(row, col) {
    const cell = row.cells[col];
    const value = cell.dataset.sort ?? cell.textContent.trim().toLowerCase();
    return value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
  }

  function apply() {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let count = 0;
    for (const row of rows) {
      const visible = (!status.value || row.dataset.status === status.value)
        && words.every((w) => text.get(row).includes(w));
      row.hidden = !visible;
      count += visible;
    }
    shown.textContent = `showing ${count} of ${rows.length}`;
  }

  for (const button of table.tHead.querySelectorAll("button[data-col]")) {
    button.addEventListener("click", () => {
      const th = button.parentElement;
      const col = Number(button.dataset.col);
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      for (const other of table.tHead.querySelectorAll("th")) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const sorted = rows.slice().sort((a, b) => {
        const x = key(a, col), y = key(b, col);
        const order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
        return ascending ? order : -order;
      });
      body.append(...sorted);
    });
  }
  filter.addEventListener("input", apply);
  status.addEventListener("change", apply);
  apply();
})();
