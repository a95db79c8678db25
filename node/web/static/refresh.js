// Reloads the page's main content every few seconds, in place, so that
// figures stay live without a full reload. The page works without it.
"use strict";
(function () {
  var main = document.getElementById("main");
  if (!main || !window.fetch || !window.DOMParser) { return; }
  var every = parseInt(main.getAttribute("data-refresh"), 10) * 1000;
  if (!(every > 0)) { return; }
  function refresh() {
    if (document.hidden) { return; }
    // Keep a form being edited as it is.
    if (document.activeElement && main.contains(document.activeElement) && document.activeElement.tagName === "SELECT") { return; }
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text === null) { return; }
        var doc = new DOMParser().parseFromString(text, "text/html");
        var next = doc.getElementById("main");
        var gen = doc.getElementById("generated");
        if (next) { main.innerHTML = next.innerHTML; }
        var here = document.getElementById("generated");
        if (gen && here) { here.textContent = gen.textContent; }
      })
      .catch(function () {});
  }
  window.setInterval(refresh, every);
}());
