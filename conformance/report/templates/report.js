// Filters for the requirement table of report.html. Kept tiny and dependency-free:
// the page must work offline, from a file:// URL, and fully (minus filters) without scripts.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.req"));
  var details = {};
  document.querySelectorAll("article.detail").forEach(function (a) { details[a.dataset.id] = a; });
  var keys = ["verdict", "level", "category", "q"];

  function apply(updateUrl) {
    var want = {};
    keys.forEach(function (k) { want[k] = form.elements[k].value.trim(); });
    var q = want.q.toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (!want.verdict || r.dataset.verdict === want.verdict) &&
               (!want.level || r.dataset.level === want.level) &&
               (!want.category || r.dataset.category === want.category) &&
               (!q || r.dataset.search.indexOf(q) !== -1 || r.dataset.id.toLowerCase().indexOf(q) !== -1);
      r.hidden = !ok;
      if (details[r.dataset.id]) { details[r.dataset.id].hidden = !ok; }
      if (ok) { shown += 1; }
    });
    document.getElementById("shown-count").textContent = String(shown);
    document.getElementById("no-match").hidden = shown > 0;
    if (updateUrl !== false) {  // keep the filter in the URL so a filtered view can be shared; not on load
      var params = new URLSearchParams();
      keys.forEach(function (k) { if (want[k]) { params.set(k, want[k]); } });
      try {
        history.replaceState(null, "", params.toString() ? "#" + params.toString() : location.pathname);
      } catch (e) { /* some browsers refuse on file:// URLs */ }
    }
  }

  function fromHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    keys.forEach(function (k) {
      if (params.has(k)) { form.elements[k].value = params.get(k); }
    });
  }

  form.addEventListener("input", function () { apply(true); });
  form.addEventListener("change", function () { apply(true); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(function () { apply(true); }, 0); });
  document.querySelectorAll(".tile").forEach(function (t) {
    t.addEventListener("click", function () {
      form.elements.verdict.value = form.elements.verdict.value === t.dataset.verdict ? "" : t.dataset.verdict;
      apply(true);
      document.getElementById("requirements").scrollIntoView();
    });
  });
  // Printing / saving as PDF shows all evidence: open every details element, and close again after.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
  if (location.hash && location.hash.indexOf("=") !== -1) { fromHash(); }
  apply(false);
  document.documentElement.setAttribute("data-filters", "ready");
})();
