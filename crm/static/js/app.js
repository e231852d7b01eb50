/*
 * Outreach CRM: small enhancements. Every page works without this file; it only
 * makes three things nicer:
 *   - the phone menu: the navigation collapses behind the "Menu" button;
 *   - data-confirm="question" on a form or a submit button: asks before sending;
 *   - data-autosubmit on a select (or any field) in a filter form: sends the form
 *     when its value changes (the form keeps its own submit button).
 * It also closes the account menu (a <details>) on Escape or a click elsewhere,
 * and moves focus to a form's error summary, so it is read out first.
 * No inline handlers anywhere (the CSP forbids them): everything is wired here.
 */
(function () {
  "use strict";

  // Marks the page before it is painted, so CSS can collapse the phone menu.
  document.documentElement.classList.add("js");

  function setUpMenu() {
    var toggle = document.querySelector("[data-menu-toggle]");
    if (!toggle) {
      return;
    }
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) {
      return;
    }
    function setOpen(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  function setUpUserMenu() {
    var menu = document.querySelector("[data-user-menu]");
    if (!menu) {
      return;
    }
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  function setUpConfirm() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var button = event.submitter;
      var question =
        (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }

  function setUpAutosubmit() {
    document.addEventListener("change", function (event) {
      var field = event.target;
      if (!field.matches || !field.matches("[data-autosubmit]") || !field.form) {
        return;
      }
      if (typeof field.form.requestSubmit === "function") {
        field.form.requestSubmit();
      } else {
        field.form.submit();
      }
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  function start() {
    setUpMenu();
    setUpUserMenu();
    setUpConfirm();
    setUpAutosubmit();
    focusErrorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
