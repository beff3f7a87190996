/* Asks for the mapping grid's rows while the page is still loading: Tabulator and the grid's own
 * script are deferred (they run once the page is parsed), the rows need the server longest, so
 * the request starts here, beside the grid's element, and mapping_grid.js takes its answer. */
(function () {
  "use strict";

  const host = document.getElementById("mapping-grid");
  if (!host || typeof window.fetch !== "function") return;
  window.mappingGridRows = fetch(host.dataset.rowsUrl, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  }).then(function (response) {
    if (!response.ok) throw new Error("The grid's rows could not be read (" + response.status + ").");
    return response.json();
  });
  // Tabulator reports a failed load itself; this keeps an early failure from being "unhandled".
  window.mappingGridRows.catch(function () {});
})();
