/* Tairyo live status: fetch the page's fragment every few seconds and swap it in.
 * Polling (not server-sent events): see alerts/views.py for why. No library, no build step. */
(function () {
  "use strict";
  var region = document.querySelector("[data-live-url]");
  if (!region || !window.fetch) { return; }
  var url = region.getAttribute("data-live-url");
  var every = (parseInt(region.getAttribute("data-live-interval"), 10) || 5) * 1000;
  var state = document.getElementById("live-state");
  var announce = document.getElementById("live-announce");
  var etag = null;
  var failures = 0;
  var timer = null;
  var lastSummary = summary();

  function summary() {
    var body = region.querySelector("[data-summary]");
    return body ? body.getAttribute("data-summary") : "";
  }

  function show(ok) {
    if (!state) { return; }
    var time = new Date().toLocaleTimeString();
    state.textContent = ok ? state.getAttribute("data-ok") + " " + time : state.getAttribute("data-failed");
    state.className = ok ? "muted" : "error";
  }

  function swap(html) {
    region.innerHTML = html;
    var now = summary();
    // Only the one-line count is announced to screen readers, and only when it changes.
    if (announce && now !== lastSummary) { announce.textContent = now; }
    lastSummary = now;
  }

  function schedule() {
    clearTimeout(timer);
    // Back off while the server is unreachable: 5 s, 10 s, ... at most 30 s.
    timer = setTimeout(poll, every * Math.min(failures + 1, 6));
  }

  function poll() {
    if (document.hidden) { return; }  // resumed by visibilitychange
    var headers = { "X-Requested-With": "fetch" };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected) {  // the session expired: let the server send us to log in
          window.location.reload();
          return;
        }
        if (response.status === 304) { return; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        etag = response.headers.get("ETag");
        return response.text().then(swap);
      })
      .then(function () { failures = 0; show(true); })
      .catch(function () { failures += 1; show(false); })
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { poll(); }
  });
  schedule();
})();
