/* Read-only lists as grids (Tabulator): the catalog's columns and the GAP document. Sticky header,
 * a filter and sort on each column, virtual rows, arrow keys between cells, Ctrl+C copies the
 * selected range for Excel, and each row links to the page that fixes it (a click on the link,
 * or Enter on any of its cells). The server-rendered table stays in the page for readers without
 * JavaScript and for printing; the grid hides it on screen.
 * A host is <div class="list-grid" data-grid="KIND" data-fallback="ID-of-the-table">; its rows
 * come from data-rows-url (the API) or data-rows (the id of a json_script in the page). */
(function () {
  "use strict";

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  const textFilter = { headerFilter: "input", headerFilterPlaceholder: "filter" };
  const listFilter = {
    headerFilter: "list",
    headerFilterParams: { valuesLookup: true, clearable: true, sort: "asc" },
    headerFilterFunc: "=",
  };

  // A cell that is the row's link: the link is the one tab stop of the row's cells, so arrow keys
  // keep moving by cell and the page to fix is one click (or Enter) away.
  function linkCell(text, muted) {
    return function (cell) {
      const href = cell.getRow().getData()._link;
      const label = text ? text(cell) : cell.getValue();
      if (!href) return element("span", muted ? "muted" : null, label);
      const link = element("a", null, label);
      link.href = href;
      link.tabIndex = -1;
      // The range selection redraws the cell while the button is down, and Chromium then sends
      // no click: the release opens the link (modified clicks keep the browser's own meaning).
      const plain = (event) => event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey);
      let pressed = false; // a drag that ends on the link is a range selection, not a click
      link.addEventListener("mousedown", (event) => (pressed = plain(event)));
      link.addEventListener("mouseleave", () => (pressed = false));
      link.addEventListener("mouseup", (event) => {
        if (pressed && plain(event)) window.location.assign(href);
      });
      link.addEventListener("click", (event) => {
        if (plain(event)) event.preventDefault();
      });
      return link;
    };
  }

  // --- the catalog's columns -------------------------------------------------------------------

  function catalogColumns(host) {
    const tableUrl = host.dataset.tableUrl;
    const percent = (cell) => (cell.getValue() === null ? "" : cell.getValue().toFixed(1) + "%");
    return {
      rows: { url: host.dataset.rowsUrl, take: (body) => body.rows, count: countOf(host) },
      link: (row) => tableUrl.replace("/0/", "/" + row.table + "/"),
      placeholder: "No column matches these filters.",
      columns: [
        Object.assign({ title: "Table", field: "table_name", frozen: true, minWidth: 150, formatter: linkCell() }, textFilter),
        Object.assign({ title: "Column", field: "name", minWidth: 140, cssClass: "strong" }, textFilter),
        Object.assign({ title: "Type", field: "data_type", minWidth: 90, formatter: (c) => element("code", null, c.getValue()) }, listFilter),
        { title: "Null?", field: "nullable", width: 78, formatter: (c) => (c.getValue() ? "yes" : "no") },
        { title: "Key", field: "is_primary_key", width: 66, formatter: (c) => (c.getValue() ? element("span", "badge pk", "PK") : "") },
        { title: "Nulls", field: "null_percent", width: 76, hozAlign: "right", formatter: percent, sorter: "number" },
        { title: "Distinct", field: "distinct_count", width: 84, hozAlign: "right", sorter: "number" },
        Object.assign({ title: "Patterns", field: "patterns", minWidth: 90, formatter: (c) => c.getValue().join(", ") }, textFilter, {
          headerFilterFunc: (term, value) => value.join(" ").toLowerCase().includes(term.toLowerCase()),
        }),
        Object.assign({ title: "Comment", field: "comment", minWidth: 140, widthGrow: 2, tooltip: true, cssClass: "muted" }, textFilter),
        Object.assign({ title: "Notes", field: "notes", minWidth: 140, widthGrow: 2, tooltip: true }, textFilter),
      ],
    };
  }

  // The count beside the section title tells how many columns the grid holds (and if cut).
  function countOf(host) {
    return function (body) {
      const count = document.querySelector("[data-grid-count=" + host.dataset.grid + "]");
      if (!count) return;
      count.textContent = body.cut
        ? body.rows.length + " shown — the first " + body.limit + "; narrow the filters"
        : String(body.rows.length);
    };
  }

  // --- the GAP document --------------------------------------------------------------------------

  const SEVERITY = { high: 0, medium: 1, low: 2 };

  function gap(host) {
    return {
      rows: { element: host.dataset.rows },
      link: (row) => row.link,
      placeholder: "No GAP item matches these filters.",
      columns: [
        Object.assign(
          {
            title: "Severity",
            field: "severity",
            width: 100,
            sorter: (a, b) => SEVERITY[a] - SEVERITY[b],
            formatter: (c) => element("span", "sev " + c.getValue(), c.getValue()),
          },
          listFilter,
          { headerFilterParams: { values: { high: "high", medium: "medium", low: "low" }, clearable: true } },
        ),
        Object.assign({ title: "Entity", field: "entity", minWidth: 110, widthGrow: 1 }, textFilter),
        Object.assign(
          {
            title: "Attribute",
            field: "attribute",
            minWidth: 130,
            widthGrow: 1,
            formatter: linkCell((c) => c.getValue() || "the entity", true),
          },
          textFilter,
        ),
        Object.assign({ title: "Category", field: "category", minWidth: 160, widthGrow: 1.3 }, listFilter),
        Object.assign({ title: "Issue", field: "issue", minWidth: 220, widthGrow: 3, tooltip: true }, textFilter),
        Object.assign({ title: "Suggested action", field: "suggested_action", minWidth: 200, widthGrow: 2, tooltip: true }, textFilter),
      ],
    };
  }

  const KINDS = { "catalog-columns": catalogColumns, gap: gap };

  // --- one grid ----------------------------------------------------------------------------------

  function build(host) {
    const kind = KINDS[host.dataset.grid];
    if (!kind) return;
    const spec = kind(host);
    // A fresh element each time: htmx may bring back a page whose grid was saved as plain markup.
    const target = element("div", "list-grid-table");
    target.setAttribute("aria-label", host.getAttribute("aria-label") || "");
    host.replaceChildren(target);
    const options = {
      maxHeight: "max(360px, calc(100vh - 160px))", // a short list is a short grid
      layout: "fitColumns",
      placeholder: spec.placeholder,
      selectableRange: 1,
      selectableRangeRows: true,
      clipboard: "copy",
      clipboardCopyRowRange: "range",
      clipboardCopyConfig: { columnHeaders: false, columnGroups: false, rowHeaders: false },
      rowHeader: { formatter: "rownum", headerSort: false, hozAlign: "right", resizable: false, frozen: true, width: 44, cssClass: "grid-rownum" },
      columnDefaults: { headerSortTristate: true, tooltip: false, vertAlign: "middle", resizable: true },
      columns: spec.columns,
    };
    const withLinks = (rows) => rows.map((row) => Object.assign(row, { _link: spec.link(row) }));
    if (spec.rows.url) {
      options.ajaxURL = spec.rows.url;
      options.ajaxConfig = { method: "GET", credentials: "same-origin", headers: { Accept: "application/json" } };
      options.ajaxResponse = function (_url, _params, body) {
        spec.rows.count(body);
        return withLinks(spec.rows.take(body));
      };
    } else {
      options.data = withLinks(JSON.parse(document.getElementById(spec.rows.element).textContent));
    }
    const table = new window.Tabulator(target, options);

    table.on("tableBuilt", function () {
      const fallback = document.getElementById(host.dataset.fallback);
      if (fallback) fallback.classList.add("grid-replaced");
      host.classList.add("ready");
    });

    // Enter on a selected cell opens its row's page, as a click on the row's link does.
    target.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.target.closest(".tabulator-header")) return;
      const range = table.getRanges()[0];
      const row = range && range.getRows()[0];
      const href = row && row.getData()._link;
      if (href) {
        event.preventDefault();
        window.location.assign(href);
      }
    });
  }

  function start(root) {
    if (typeof window.Tabulator !== "function") return;
    const scope = root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches(".list-grid[data-grid]")) build(scope);
    scope.querySelectorAll(".list-grid[data-grid]").forEach(build);
  }

  // Pages whose lists htmx replaces (the catalog's filters) build the new grid on each swap.
  if (window.htmx) window.htmx.onLoad(start);
  else start(document);
})();
