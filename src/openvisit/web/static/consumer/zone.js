// The consumer pages' only script; every step works without it.
// 1. The slot step starts in the business's time zone; when the visitor has not picked
//    one, show the times in the browser's own zone instead (once: the address then
//    names the zone, and the list lets the visitor change it).
// 2. A form sent back with errors moves the focus to its error summary.
// Changing a zone or a provider waits for its button: a page that reloads while a
// keyboard user walks through a list would lose their place (WCAG 3.2.2).
(function () {
  "use strict";
  var select = document.querySelector("select[data-zone-detect='yes']");
  if (select) {
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      zone = "";
    }
    var listed = Array.prototype.some.call(select.options, function (option) {
      return option.value === zone;
    });
    if (zone && listed && zone !== select.value) {
      var url = new URL(window.location.href);
      url.searchParams.set("tz", zone);
      window.location.replace(url.toString());
      return;
    }
  }
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
