// Live pages: the element with data-live names a server-sent events stream of this page's
// fragments; each `fragment` event replaces the element with the same id. Times shown as
// "N s ago" (data-since) tick here, so a fragment changes only when the state does.
(function () {
  "use strict";

  function ago(seconds) {
    if (seconds < 0) seconds = 0;
    if (seconds < 90) return Math.round(seconds) + " s ago";
    if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
    if (seconds < 129600) return Math.round(seconds / 3600) + " h ago";
    return Math.round(seconds / 86400) + " d ago";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(at)) el.textContent = ago((now - at) / 1000);
    });
  }

  function swap(fragment) {
    var target = document.getElementById(fragment.id);
    if (!target) return;
    var holder = document.createElement("template");
    holder.innerHTML = fragment.html.trim();
    var fresh = holder.content.firstElementChild;
    if (!fresh) return;
    target.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }

  function connect() {
    var page = document.querySelector("[data-live]");
    if (!page || !window.EventSource) return;
    var stream = new EventSource(page.getAttribute("data-live"));
    stream.addEventListener("fragment", function (event) {
      swap(JSON.parse(event.data));
      tick();
      document.body.setAttribute("data-live-at", String(Date.now()));
    });
    stream.addEventListener("logout", function () {
      stream.close();
      window.location.assign("/ui/login");
    });
    stream.onopen = function () { document.body.classList.remove("offline"); };
    stream.onerror = function () { document.body.classList.add("offline"); };  // EventSource reconnects itself
  }

  // Confirmation for actions that destroy or interrupt (data-confirm), without inline script.
  document.addEventListener("htmx:confirm", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (!question) return;
    event.preventDefault();
    if (window.confirm(question)) event.detail.issueRequest(true);
  });

  document.addEventListener("DOMContentLoaded", function () {
    connect();
    tick();
    setInterval(tick, 1000);
  });
})();
