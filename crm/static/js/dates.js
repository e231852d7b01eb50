/*
 * Outreach CRM: dates in words beside every date field, as they are typed.
 *
 * A date field is plain text (input[data-date-input]); the browser's own date
 * picker is not used because it follows the browser's language (mm/dd/yyyy in an
 * English browser) and let day and month be swapped. The <output> named by
 * data-date-input carries the month names of the page's language (data-months),
 * its digits (data-digits) and two messages; this script reads the typed text with
 * the same rules as the server (crm/dates.py) and writes the date back in words:
 * "12 March 2024" or "١٢ آذار ٢٠٢٤". The server decides what is stored.
 * No inline script (the CSP forbids it): everything is wired here.
 */
(function () {
  "use strict";

  var EASTERN = "٠١٢٣٤٥٦٧٨٩";
  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
  var ISO = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/;
  var DAY_FIRST = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/;

  function westernDigits(text) {
    return text.replace(/[٠-٩۰-۹]/g, function (ch) {
      var i = EASTERN.indexOf(ch);
      return String(i >= 0 ? i : PERSIAN.indexOf(ch));
    });
  }

  function makeDate(year, month, day) {
    if (month < 1 || month > 12 || day < 1) {
      return null;
    }
    var last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return day <= last ? { year: year, month: month, day: day } : null;
  }

  function same(a, b) {
    return a.year === b.year && a.month === b.month && a.day === b.day;
  }

  // {date} | {ambiguous: [one, other]} | {invalid: true} | null (empty)
  function read(text) {
    var raw = westernDigits(text).replace(/[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\s]/g, "");
    if (!raw) {
      return null;
    }
    var m = ISO.exec(raw);
    if (m) {
      var found = makeDate(+m[1], +m[2], +m[3]);
      return found ? { date: found } : { invalid: true };
    }
    m = DAY_FIRST.exec(raw);
    if (m) {
      var dayFirst = makeDate(+m[3], +m[2], +m[1]);
      var monthFirst = makeDate(+m[3], +m[1], +m[2]);
      if (dayFirst && monthFirst && !same(dayFirst, monthFirst)) {
        return { ambiguous: [dayFirst, monthFirst], raw: raw };
      }
      if (dayFirst || monthFirst) {
        return { date: dayFirst || monthFirst };
      }
    }
    return { invalid: true };
  }

  function words(output, d) {
    var months = (output.getAttribute("data-months") || "").split("|");
    var text = d.day + " " + (months[d.month - 1] || d.month) + " " + d.year;
    if (output.getAttribute("data-digits") === "arab") {
      text = text.replace(/[0-9]/g, function (ch) {
        return EASTERN.charAt(+ch);
      });
    }
    return text;
  }

  function update(input, output) {
    var found = read(input.value || "");
    output.classList.remove("date-words--problem");
    if (found === null) {
      output.textContent = "";
    } else if (found.date) {
      output.textContent = words(output, found.date);
    } else if (found.ambiguous) {
      output.classList.add("date-words--problem");
      output.textContent = (output.getAttribute("data-ambiguous") || "")
        .replace("%(value)s", found.raw)
        .replace("%(one)s", words(output, found.ambiguous[0]))
        .replace("%(other)s", words(output, found.ambiguous[1]));
    } else {
      output.classList.add("date-words--problem");
      output.textContent = output.getAttribute("data-invalid") || "";
    }
  }

  function setUp() {
    var inputs = document.querySelectorAll("input[data-date-input]");
    Array.prototype.forEach.call(inputs, function (input) {
      var output = document.getElementById(input.getAttribute("data-date-input"));
      if (!output) {
        return;
      }
      input.addEventListener("input", function () {
        update(input, output);
      });
      update(input, output);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
