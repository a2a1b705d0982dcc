// The Weir console's only script: live refresh of pages that ask for it
// (<body data-refresh="seconds">). It re-fetches the page's content with
// the X-Console-Partial header and swaps it in, skipping a round while
// the user is typing in a form or the tab is hidden.
(function () {
  "use strict";
  var seconds = Number(document.body.dataset.refresh || 0);
  if (!(seconds > 0)) {
    return;
  }
  function editing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT");
  }
  function refresh() {
    if (document.hidden || editing()) {
      return;
    }
    fetch(location.href, { headers: { "X-Console-Partial": "1" }, cache: "no-store" })
      .then(function (r) {
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        document.getElementById("content").innerHTML = html;
        var u = document.getElementById("updated");
        if (u) {
          u.textContent = new Date().toLocaleTimeString();
        }
      })
      .catch(function () {
        // the collector is restarting: try again next round
      });
  }
  setInterval(refresh, seconds * 1000);
})();
