/*
 * Import progress (crm/imports): the progress page polls the job's status every
 * second and a half, moves the bar, and opens the result when the job is done.
 * Without this file the page reloads itself (a <noscript> refresh).
 */
(function () {
  "use strict";

  function start() {
    var box = document.querySelector("[data-import-status]");
    if (!box) {
      return;
    }
    var url = box.getAttribute("data-import-status");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-import-text]");

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (status) {
          if (status.finished) {
            window.location.assign(status.url);
            return;
          }
          if (bar && status.estimate) {
            bar.max = status.estimate;
            bar.value = Math.min(status.rows, status.estimate);
          }
          if (text && status.text) {
            text.textContent = status.text;
          }
          window.setTimeout(poll, 1500);
        })
        .catch(function () {
          window.setTimeout(poll, 5000);
        });
    }

    window.setTimeout(poll, 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
