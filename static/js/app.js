// Small behaviours of the pages, here rather than in inline handlers: the
// Content-Security-Policy allows scripts from our static files only.
(function () {
  "use strict";

  // <form data-confirm="..."> or <button data-confirm="...">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();  // htmx must not send it either
    }
  }, true);

  document.addEventListener("click", function (event) {
    // <button data-print>: print the page.
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });

  // <select data-autosubmit>: choosing submits its form (through htmx when the form has hx-*).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-autosubmit]");
    if (select && select.form) {
      select.form.requestSubmit();
    }
  });

  // Escape inside a row being edited clicks its [data-cancel-on-escape] button.
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var row = event.target.closest && event.target.closest("tr");
    var cancel = row && row.querySelector("[data-cancel-on-escape]");
    if (cancel) {
      cancel.click();
    }
  });
})();
