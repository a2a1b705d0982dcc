// The Weir console's only script: live refresh of pages that ask for it
// (<body data-refresh="seconds">). It re-fetches the page's content with
// the X-Console-Partial header and swaps it in, skipping a round while
// the user is typing in a form or the tab is hidden. Once the user has
// changed a form field on the page (ticked a confirmation box, typed a
// throttle), no refresh replaces the content any more, not even one
// already in flight: swapping would reset the form under them, and a
// submit would then send the defaults or be stopped by a required box.
(function () {
  "use strict";
  var seconds = Number(document.body.dataset.refresh || 0);
  if (!(seconds > 0)) {
    return;
  }
  var touched = false;
  function mark() {
    touched = true;
  }
  document.addEventListener("input", mark, true);
  document.addEventListener("change", mark, true);
  document.addEventListener("submit", mark, true);
  function editing() {
    var a = document.activeElement;
    return touched || (a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT"));
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
        if (html === null || editing()) {
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
