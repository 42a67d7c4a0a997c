/* Progressive enhancement only: every page works without this file.
 * - copy buttons ([data-copy-target] -> copies the text of that element)
 * - charts (canvas[data-chart] reads the JSON in the <script> named by data-chart) with Chart.js
 * Both run on page load and on content htmx swaps in (htmx.onLoad).
 */
(function () {
  "use strict";

  var COLOURS = { vllm: "#0b5cad", ollama: "#b35900", llamacpp: "#1a7f37", openai: "#6e40c9", other: "#57606a" };

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }

  function initCopyButtons(root) {
    root.querySelectorAll("[data-copy-target]").forEach(function (button) {
      if (button.dataset.copyReady) { return; }
      button.dataset.copyReady = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copyTarget);
        if (!source) { return; }
        var label = button.textContent;
        copyText(source.textContent).then(function () {
          button.textContent = "Copied";
          button.setAttribute("aria-live", "polite");
          setTimeout(function () { button.textContent = label; }, 1500);
        });
      });
    });
  }

  function colourFor(series) {
    return COLOURS[series.server] || COLOURS.other;
  }

  function initCharts(root) {
    if (typeof window.Chart === "undefined") { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.chartReady) { return; }
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      var datasets = spec.series.map(function (series) {
        var predicted = series.source === "model";
        return {
          label: series.label,
          data: series.points.map(function (p) { return { x: p[0], y: p[1] }; }),
          borderColor: colourFor(series),
          backgroundColor: colourFor(series),
          borderDash: predicted ? [6, 4] : [],
          pointStyle: predicted ? "triangle" : "circle",
          pointRadius: 4,
          tension: 0,
        };
      });
      var maxX = 1;
      spec.series.forEach(function (s) { s.points.forEach(function (p) { if (p[0] > maxX) { maxX = p[0]; } }); });
      new window.Chart(canvas, {
        type: "line",
        data: { datasets: datasets },
        options: {
          animation: false,
          maintainAspectRatio: false,
          parsing: true,
          plugins: { title: { display: true, text: spec.title }, legend: { position: "bottom" } },
          scales: {
            x: { type: maxX >= 8 ? "logarithmic" : "linear", title: { display: true, text: spec.x_label } },
            y: { beginAtZero: true, title: { display: true, text: spec.y_label } },
          },
        },
      });
      canvas.dataset.chartReady = "1";
    });
  }

  function markCurrentFile(root) {
    var preview = root.querySelector ? (root.id === "preview" ? root : root.querySelector("#preview")) : null;
    if (!preview || !preview.dataset.currentPath) { return; }
    document.querySelectorAll(".file-tree a[data-path]").forEach(function (link) {
      if (link.dataset.path === preview.dataset.currentPath) {
        link.setAttribute("aria-current", "true");
      } else {
        link.removeAttribute("aria-current");
      }
    });
  }

  function init(root) {
    initCopyButtons(root);
    initCharts(root);
    markCurrentFile(root);
  }

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
