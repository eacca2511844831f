// Commonplan web pages: draw the charts whose data the server embeds, and keep ballot totals live.
// No inline scripts: the pages' Content-Security-Policy allows scripts from this server only.
(function () {
  "use strict";
  function drawCharts(root) {
    if (typeof Plotly === "undefined") { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      var layout = Object.assign({ margin: { l: 50, r: 10, t: 30, b: 60 }, autosize: true }, figure.layout || {});
      Plotly.newPlot(el, figure.data, layout, { responsive: true, displaylogo: false, displayModeBar: false });
      el.dataset.drawn = "1";
    });
  }
  function updateTotals(root) {
    root.querySelectorAll("form[data-points-total]").forEach(function (form) {
      var out = form.querySelector("[data-total]");
      if (!out) { return; }
      var refresh = function () {
        var sum = 0;
        form.querySelectorAll("input[data-points]").forEach(function (input) {
          var v = parseFloat(input.value); if (!isNaN(v)) { sum += v; }
        });
        out.textContent = sum.toFixed(1).replace(/\.0$/, "");
        out.parentElement.classList.toggle("bad", Math.abs(sum - 100) > 1e-6);
      };
      form.addEventListener("input", refresh);
      refresh();
    });
  }
  function init(root) { drawCharts(root); updateTotals(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // an outerHTML swap replaces its target: look at the whole page (drawn charts are skipped)
  document.addEventListener("htmx:afterSwap", function () { init(document); });
})();
