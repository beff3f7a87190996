/* The mapping grid: an entity's attribute mappings in a Tabulator grid that works like a
 * spreadsheet. Rows come from the API; every edit, paste and bulk action goes back through it
 * (the server validates and keeps the row_version lock); nothing is decided here.
 * Configuration comes from data- attributes on #mapping-grid and the #grid-choices JSON. */
(function () {
  "use strict";

  const host = document.getElementById("mapping-grid");
  if (!host || typeof window.Tabulator !== "function") return;

  const cfg = host.dataset;
  const canEdit = cfg.canEdit === "1";
  const choices = JSON.parse(document.getElementById("grid-choices").textContent);
  const statusLine = document.getElementById("grid-status");
  const RULE_FIELDS = ["source_columns", "transformation", "default_value"];
  const TITLES = {
    source_columns: "Source columns",
    transformation: "Transformation",
    default_value: "Default",
  };

  // --- talking to the API ----------------------------------------------------------------------

  const urlFor = (template, id) => template.replace("/0/", "/" + id + "/");

  async function api(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": cfg.csrfToken,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    return { status: response.status, data: data };
  }

  function say(text, level) {
    statusLine.textContent = text;
    statusLine.className = "grid-status " + (level || "ok");
  }

  function messagesOf(body) {
    if (!body || typeof body !== "object") return "the server refused the change";
    return Object.entries(body)
      .map(([field, value]) => (field === "detail" ? "" : field + ": ") + [].concat(value).join(" "))
      .join(" · ");
  }

  // --- cells -----------------------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function attributeCell(cell) {
    const row = cell.getData();
    const span = element("span", "grid-attribute");
    span.append(element("strong", null, row.attribute_name));
    if (row.required) span.append(element("span", "req", "*"));
    if (row.primary_key) span.append(element("span", "badge pk", "PK"));
    if (!row.in_contract) span.append(element("span", "badge st-blocked", "not in contract"));
    if (row.flags.includes("changed_since_signoff")) {
      span.append(element("span", "badge changed-since", "changed since sign-off"));
    }
    cell.getElement().title = row.attribute_name + (row.required ? " (mandatory)" : "");
    return span;
  }

  function badgeCell(kind, labels) {
    return function (cell) {
      const value = cell.getValue();
      return element("span", "badge " + kind + "-" + value, labels[value] || value);
    };
  }

  function ruleCell(cell) {
    const row = cell.getData();
    const field = cell.getField();
    const errors = (row._errors || {})[field];
    const td = cell.getElement();
    td.classList.toggle("cell-refused", Boolean(errors));
    const warnings = (row.problems || []).filter((p) => p.level === "warning");
    td.classList.toggle("cell-warning", field === "transformation" && warnings.length > 0);
    const value = cell.getValue() || "";
    if (errors) {
      td.title = "Not saved: " + errors.join(" ");
    } else if (field === "transformation" && warnings.length) {
      td.title = value + "\n" + warnings.map((w) => w.message).join("\n");
    } else {
      td.title = value;
    }
    if (field === "source_columns" && !value && row.transformation && row.lineage.length) {
      return element("span", "derived", row.lineage.join(", ")); // lineage of the transformation
    }
    return value ? element("code", null, value) : "";
  }

  function talkCell(cell) {
    const row = cell.getData();
    if (!row.comment_count) return "";
    const link = element("a", null, String(row.comment_count) + (row.open_questions ? " ?" : ""));
    link.href = urlFor(cfg.attributeUrl, row.id) + "#comments";
    link.tabIndex = -1; // the grid moves by cell; the attribute page is one click away
    return link;
  }

  // --- live validation while typing ----------------------------------------------------------

  const hint = element("div", "grid-hint");
  hint.setAttribute("role", "status");
  hint.hidden = true;
  document.body.append(hint);
  let validateTimer = null;
  let validateTurn = 0;

  function placeHint(cell) {
    const box = cell.getElement().getBoundingClientRect();
    hint.style.left = Math.max(4, box.left) + "px";
    hint.style.top = box.bottom + 2 + "px";
  }

  function showHint(cell, problems, result) {
    hint.replaceChildren();
    if (problems.length) {
      problems.forEach((p) => hint.append(element("div", "problem " + p.level, p.message)));
    } else {
      const parts = ["Valid"];
      if (result.inferred_type) parts.push("result type " + result.inferred_type.toLowerCase());
      if (result.lineage.length) parts.push("from " + result.lineage.join(", "));
      hint.append(element("div", "problem ok", parts.join(" · ")));
    }
    placeHint(cell);
    hint.hidden = false;
  }

  function validateSoon(cell, text) {
    clearTimeout(validateTimer);
    validateTimer = setTimeout(async function () {
      const turn = ++validateTurn;
      const row = cell.getData();
      const draft = {};
      RULE_FIELDS.forEach((f) => (draft[f] = row[f] || ""));
      draft[cell.getField()] = text;
      const answer = await api("POST", urlFor(cfg.validateUrl, row.id), draft);
      if (turn !== validateTurn || hint.dataset.closed === "1" || answer.status !== 200) return;
      const result = answer.data;
      const problems = [];
      Object.values(result.errors).forEach((ms) =>
        ms.forEach((m) => problems.push({ level: "error", message: m })),
      );
      result.warnings.forEach((m) => problems.push({ level: "warning", message: m }));
      showHint(cell, problems, result);
    }, 350);
  }

  function closeHint() {
    clearTimeout(validateTimer);
    validateTurn++;
    hint.dataset.closed = "1";
    hint.hidden = true;
  }

  // The editor: Enter saves, Shift+Enter starts a new line (transformations), Esc cancels,
  // Tab saves and lets the grid move on; arrows move the caret inside the text.
  function ruleEditor(cell, onRendered, success, cancel) {
    const multiline = cell.getField() === "transformation";
    const input = element(multiline ? "textarea" : "input", "grid-editor");
    input.value = cell.getValue() || "";
    input.spellcheck = false;
    if (multiline) input.rows = 1;
    input.setAttribute("aria-label", TITLES[cell.getField()] + " of " + cell.getData().attribute_name);
    let finished = false;
    editingRow = cell.getRow();
    function finish(keep) {
      if (finished) return;
      finished = true;
      closeHint();
      editingRow = null;
      if (keep) success(input.value);
      else cancel();
      applyDeferred(cell.getRow(), keep ? cell.getField() : null);
    }
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.altKey) {
        e.preventDefault();
        e.stopPropagation();
        finish(true);
      } else if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        finish(false);
      } else if (e.key === "Tab") {
        finish(true);
      } else {
        // Every other key is text. Tabulator reads printable keys as key codes, so "(" would be
        // ArrowDown (40) and "'" ArrowRight (39) to its navigation: keep them in the editor.
        e.stopPropagation();
      }
    });
    input.addEventListener("blur", () => finish(true));
    input.addEventListener("input", () => validateSoon(cell, input.value));
    onRendered(function () {
      hint.dataset.closed = "0";
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    });
    return input;
  }

  // --- the table -------------------------------------------------------------------------------

  const editable = canEdit ? ruleEditor : false;
  const listFilter = (labels) => ({
    headerFilter: "list",
    headerFilterParams: { values: Object.assign({ "": "(all)" }, labels), clearable: true },
    headerFilterFunc: "=",
  });

  // Every cell is one line (they never wrap), so every row is as tall as one probe row: knowing it
  // before the first row is drawn, the virtual renderer draws the visible rows in one pass instead
  // of drawing and measuring them in batches.
  function oneLineRowHeight() {
    host.classList.add("tabulator");
    const probe = element("div", "tabulator-row");
    const cell = element("div", "tabulator-cell");
    cell.append(element("span", "badge", "Mapped"), element("code", null, "t.x"));
    probe.append(cell);
    host.append(probe);
    const height = cell.offsetHeight; // as Tabulator measures a row
    probe.remove();
    return height || undefined;
  }

  // The rows: the request grid_rows.js started while the page loaded, or a new one.
  function loadRows(url, config) {
    const early = window.mappingGridRows;
    window.mappingGridRows = null;
    if (early) return early;
    return fetch(url, config).then(function (response) {
      if (!response.ok) throw new Error("The grid's rows could not be read (" + response.status + ").");
      return response.json();
    });
  }

  const table = new window.Tabulator(host, {
    ajaxURL: cfg.rowsUrl,
    ajaxConfig: { method: "GET", credentials: "same-origin", headers: { Accept: "application/json" } },
    ajaxRequestFunc: loadRows,
    index: "id",
    height: "max(420px, calc(100vh - 110px))",
    rowHeight: oneLineRowHeight(),
    // Draw a few rows beyond the visible ones (the default draws a whole screen more)
    renderVerticalBuffer: 240,
    layout: "fitColumns",
    placeholder: "No attribute matches these filters.",
    selectableRange: 1,
    selectableRangeRows: true,
    selectableRangeClearCells: false,
    editTriggerEvent: "dblclick",
    clipboard: "copy",
    clipboardCopyRowRange: "range",
    clipboardCopyConfig: { columnHeaders: false, columnGroups: false, rowHeaders: false },
    // Links to a row (the GAP, a failed test run) name it #row-<id>, as the table view does.
    rowFormatter: function (row) {
      const element = row.getElement();
      element.id = "row-" + row.getData().id;
      element.classList.toggle("row-target", element.id === location.hash.slice(1));
    },
    rowHeader: {
      formatter: "rownum",
      headerSort: false,
      hozAlign: "right",
      resizable: false,
      frozen: true,
      width: 44,
      cssClass: "grid-rownum",
    },
    columnDefaults: { headerSortTristate: true, tooltip: false, vertAlign: "middle" },
    columns: [
      {
        title: "Attribute",
        field: "attribute_name",
        frozen: true,
        minWidth: 140,
        widthGrow: 1.3,
        formatter: attributeCell,
        headerFilter: "input",
        headerFilterPlaceholder: "filter",
      },
      { title: "Type", field: "data_type", minWidth: 80, widthGrow: 0.6, headerFilter: "input", headerFilterPlaceholder: "filter" },
      {
        title: "Canonical meaning",
        field: "canonical_meaning",
        minWidth: 120,
        widthGrow: 1.6,
        tooltip: true,
        cssClass: "grid-meaning",
        headerFilter: "input",
        headerFilterPlaceholder: "filter",
      },
      {
        title: "Source columns",
        field: "source_columns",
        minWidth: 110,
        widthGrow: 1.2,
        editor: editable,
        formatter: ruleCell,
        headerFilter: "input",
        headerFilterPlaceholder: "filter",
      },
      {
        title: "Transformation",
        field: "transformation",
        minWidth: 170,
        widthGrow: 2.6,
        editor: editable,
        formatter: ruleCell,
        headerFilter: "input",
        headerFilterPlaceholder: "filter",
      },
      { title: "Default", field: "default_value", minWidth: 80, widthGrow: 0.7, editor: editable, formatter: ruleCell },
      Object.assign(
        { title: "Status", field: "status", minWidth: 92, widthGrow: 0.8, formatter: badgeCell("st", choices.status) },
        listFilter(choices.status),
      ),
      Object.assign(
        { title: "Feasibility", field: "feasibility", minWidth: 100, widthGrow: 0.9, formatter: badgeCell("fe", choices.feasibility) },
        listFilter(choices.feasibility),
      ),
      Object.assign(
        { title: "SME review", field: "sme_review", minWidth: 92, widthGrow: 0.8, formatter: badgeCell("rv", choices.sme_review) },
        listFilter(choices.sme_review),
      ),
      { title: "Talk", field: "comment_count", width: 52, hozAlign: "center", formatter: talkCell, headerTooltip: "comments (open questions marked ?)" },
    ],
  });

  // --- saving an edit --------------------------------------------------------------------------

  // The server's row_version of each row: what the next save of the row is based on.
  const versions = new Map();

  // Redrawing rows ends the edit in progress, so an answer arriving while a cell is being edited
  // waits until the edit ends (without the field just typed there, whose own save follows).
  let editingRow = null;
  const deferred = new Map(); // row id -> {row, data}

  async function showOnRow(row, data) {
    const id = row.getData().id;
    if (editingRow !== null) {
      const waiting = deferred.get(id) || { row: row, data: {} };
      Object.assign(waiting.data, data);
      deferred.set(id, waiting);
      return;
    }
    await row.update(data);
    row.reformat();
  }

  function applyDeferred(editedRow, typedField) {
    const waiting = Array.from(deferred.values());
    deferred.clear();
    waiting.forEach(function (entry) {
      if (typedField && entry.row === editedRow) delete entry.data[typedField];
    });
    setTimeout(() => waiting.forEach((entry) => showOnRow(entry.row, entry.data)), 0);
  }

  // A row's saves go one after the other: each carries the row_version the previous one returned.
  const queues = new Map();

  function save(row, fields) {
    const id = row.getData().id;
    const next = (queues.get(id) || Promise.resolve()).then(() => patch(row, fields));
    queues.set(id, next.catch(() => false));
    return next;
  }

  async function patch(row, fields) {
    const before = row.getData();
    const rowVersion = versions.has(before.id) ? versions.get(before.id) : before.row_version;
    const answer = await api("PATCH", urlFor(cfg.rowUrl, before.id), Object.assign({ row_version: rowVersion }, fields));
    const errors = Object.assign({}, row.getData()._errors || {});
    Object.keys(fields).forEach((f) => delete errors[f]);
    if (answer.status === 200) {
      versions.set(before.id, answer.data.row_version);
      await showOnRow(row, Object.assign({}, answer.data, { _errors: errors }));
      say("Saved " + before.attribute_name + ".");
      return true;
    }
    if (answer.status === 409 && answer.data && answer.data.current) {
      showConflict(row, fields, answer.data);
      return false;
    }
    const body = answer.data || {};
    Object.keys(fields).forEach(function (f) {
      if (body[f]) errors[f] = [].concat(body[f]);
    });
    await showOnRow(row, { _errors: errors });
    say("Not saved — " + before.attribute_name + ": " + messagesOf(body), "error");
    return false;
  }

  table.on("cellEdited", function (cell) {
    save(cell.getRow(), { [cell.getField()]: cell.getValue() || "" });
  });

  table.on("dataLoaded", function () {
    // Keyboard users start in the grid: the first cell is active, arrows move from there.
    const holder = host.querySelector(".tabulator-tableholder");
    if (holder) holder.focus({ preventScroll: true });
    updateSelection();
    showLinkedRow();
  });

  // A link that names a row (#row-<id>) opens the grid on it, marked, in view.
  function showLinkedRow() {
    const linked = /^#row-(\d+)$/.exec(location.hash);
    if (!linked || !table.getRow(Number(linked[1]))) return;
    setTimeout(function () {
      table.scrollToRow(Number(linked[1]), "center", false).then(function () {
        const element = document.getElementById("row-" + linked[1]);
        if (element) element.scrollIntoView({ block: "center" });
      });
    }, 0);
  }

  // --- a conflict: both values, the user picks -----------------------------------------------

  const dialog = document.getElementById("grid-conflict");

  function showConflict(row, fields, body) {
    const theirs = body.current;
    dialog.querySelector(".conflict-detail").textContent = body.detail;
    const list = dialog.querySelector(".conflict-values");
    list.replaceChildren();
    Object.keys(fields).forEach(function (f) {
      list.append(element("dt", null, TITLES[f] || f));
      list.append(element("dd", "mine", "Yours: " + (fields[f] || "∅")));
      list.append(element("dd", "theirs", "Theirs: " + (theirs[f] || "∅")));
    });
    dialog.onclose = null;
    versions.set(theirs.id, theirs.row_version); // the next save is based on their version
    dialog.querySelector("[data-conflict=mine]").onclick = async function () {
      dialog.close();
      await showOnRow(row, Object.assign({}, theirs, fields));
      save(row, fields);
    };
    dialog.querySelector("[data-conflict=theirs]").onclick = async function () {
      dialog.close();
      await showOnRow(row, Object.assign({}, theirs, { _errors: {} }));
      say("Took the current values of " + theirs.attribute_name + ".");
    };
    dialog.showModal();
    dialog.querySelector("[data-conflict=mine]").focus();
  }

  // --- paste from Excel ------------------------------------------------------------------------

  // Excel's text/plain: rows end with a newline, cells are tab separated, a cell holding a tab,
  // newline or quote is quoted with doubled quotes inside.
  function parseTabSeparated(text) {
    text = text.replace(/\r\n?/g, "\n");
    const rows = [];
    let row = [];
    let value = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          value += '"';
          i++;
        } else if (c === '"') {
          quoted = false;
        } else {
          value += c;
        }
      } else if (c === '"' && value === "") {
        quoted = true;
      } else if (c === "\t") {
        row.push(value);
        value = "";
      } else if (c === "\n") {
        row.push(value);
        rows.push(row);
        row = [];
        value = "";
      } else {
        value += c;
      }
    }
    if (value !== "" || row.length) {
      row.push(value);
      rows.push(row);
    }
    return rows;
  }

  async function pasteBlock(block) {
    const range = table.getRanges()[0];
    if (!range || !block.length) return;
    const columns = table.getColumns().filter((c) => c.isVisible());
    const rows = table.getRows("active");
    const firstColumn = columns.indexOf(range.getColumns()[0]);
    const firstRow = rows.indexOf(range.getRows()[0]);
    if (firstColumn < 0 || firstRow < 0) return;
    // One copied value onto a taller selection fills it down, as in Excel.
    const height = block.length === 1 ? range.getRows().length : block.length;
    const skipped = new Set();
    const results = [];
    for (let r = 0; r < height && firstRow + r < rows.length; r++) {
      const values = block[r % block.length];
      const fields = {};
      values.forEach(function (value, c) {
        const column = columns[firstColumn + c];
        if (!column) return;
        const field = column.getField();
        if (RULE_FIELDS.includes(field)) fields[field] = value.trim();
        else skipped.add(column.getDefinition().title || "row numbers");
      });
      const row = rows[firstRow + r];
      const changed = Object.keys(fields).filter((f) => (row.getData()[f] || "") !== fields[f]);
      if (!changed.length) continue;
      const update = {};
      changed.forEach((f) => (update[f] = fields[f]));
      await row.update(update);
      results.push(await save(row, update)); // one by one: each row is its own transaction
    }
    const saved = results.filter(Boolean).length;
    let text = "Pasted " + results.length + " row" + (results.length === 1 ? "" : "s") + ": " + saved + " saved";
    if (saved < results.length) text += ", " + (results.length - saved) + " refused (marked red; hover for why)";
    if (skipped.size) text += ". Not editable, left as they were: " + Array.from(skipped).join(", ");
    say(text + ".", saved < results.length ? "error" : "ok");
  }

  host.addEventListener("paste", function (e) {
    if (e.target.classList && e.target.classList.contains("grid-editor")) return; // pasting into one cell
    if (e.target.closest && e.target.closest(".tabulator-header")) return; // into a header filter
    const text = e.clipboardData && e.clipboardData.getData("text/plain");
    if (!text) return;
    e.preventDefault();
    if (!canEdit) {
      say("Your role cannot edit the mapping.", "error");
      return;
    }
    pasteBlock(parseTabSeparated(text));
  });

  // --- selection and bulk actions --------------------------------------------------------------

  function selectedRows() {
    const rows = new Map();
    table.getRanges().forEach((range) => range.getRows().forEach((row) => rows.set(row.getData().id, row)));
    return Array.from(rows.values());
  }

  const bulkButtons = Array.from(document.querySelectorAll("[data-bulk]"));

  function updateSelection() {
    const count = selectedRows().length;
    document.getElementById("grid-selection").textContent =
      count + " row" + (count === 1 ? "" : "s") + " selected";
    bulkButtons.forEach((b) => (b.disabled = count === 0));
  }

  ["rangeAdded", "rangeChanged", "rangeRemoved", "dataFiltered", "dataSorted"].forEach((name) =>
    table.on(name, updateSelection),
  );

  async function bulk(action) {
    const rows = selectedRows();
    if (!rows.length) return;
    const valueInput = document.querySelector("[data-bulk-value=" + action + "]");
    const commentInput = document.querySelector("[data-bulk-comment=" + action + "]");
    const payload = { ids: rows.map((r) => r.getData().id), action: action };
    if (valueInput) payload.value = valueInput.value;
    if (commentInput) payload.comment = commentInput.value;
    say("Working on " + rows.length + " rows…", "ok");
    const answer = await api("POST", cfg.bulkUrl, payload);
    const body = answer.data || {};
    if (Array.isArray(body.rows)) {
      body.rows.forEach((r) => versions.set(r.id, r.row_version));
      await table.updateData(body.rows);
    }
    if (answer.status === 200) {
      const skipped = (body.results || []).filter((r) => r.outcome === "skipped");
      let text = body.detail;
      if (skipped.length) text += " Skipped: " + skipped.map((r) => r.attribute + " (" + r.message + ")").join(", ") + ".";
      say(text, "ok");
    } else if (Array.isArray(body.results)) {
      const refused = body.results.filter((r) => r.outcome === "refused");
      say(body.detail + " " + refused.map((r) => r.attribute + ": " + r.message).join(" · "), "error");
    } else {
      say("Nothing was changed: " + messagesOf(body), "error");
    }
  }

  bulkButtons.forEach((button) => button.addEventListener("click", () => bulk(button.dataset.bulk)));
})();
