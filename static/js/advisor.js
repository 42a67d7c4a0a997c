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

  // Milliseconds for people: "850 ms", "2.4 s", "3.5 min".
  function humanMs(value) {
    if (value >= 60000) { return (value / 60000).toPrecision(2).replace(/\.0+$/, "") + " min"; }
    if (value >= 1000) { return (value / 1000).toPrecision(2).replace(/\.0+$/, "") + " s"; }
    return Math.round(value) + " ms";
  }

  // Log axes label powers of ten, and 2 and 5 times them when the data spans under two decades,
  // so the ticks stay readable.
  function isRoundLogTick(value, decades) {
    var power = Math.pow(10, Math.floor(Math.log10(value) + 1e-9));
    var lead = Math.round(value / power);
    if (Math.abs(value - lead * power) > 1e-6 * power) { return false; }
    return lead === 1 || (decades < 2 && (lead === 2 || lead === 5));
  }

  function decadesOf(values) {
    var positive = values.filter(function (v) { return v > 0; });
    if (!positive.length) { return 0; }
    return Math.log10(Math.max.apply(null, positive) / Math.min.apply(null, positive));
  }

  function lineChart(canvas, spec) {
    var maxX = 1;
    var minX = Infinity;
    spec.series.forEach(function (s) {
      s.points.forEach(function (p) { maxX = Math.max(maxX, p[0]); minX = Math.min(minX, p[0]); });
    });
    if (!isFinite(minX)) { minX = 1; }
    var latency = spec.y_label === "ms";
    var datasets = spec.series.map(function (series) {
      var predicted = series.source === "model";
      var held = series.users_within_target;
      var label = series.label;
      if (held !== undefined) {
        label += held ? " (holds " + held + " at the target)" : " (misses the target from the first level)";
      }
      return {
        label: label,
        data: series.points.map(function (p) { return { x: p[0], y: p[1] }; }),
        borderColor: colourFor(series),
        backgroundColor: predicted ? "#ffffff" : colourFor(series),
        borderDash: predicted ? [6, 4] : [],
        borderWidth: predicted ? 1.5 : 2.5,
        pointStyle: predicted ? "triangle" : "circle",
        // The level where the series last meets the target is drawn larger.
        pointRadius: series.points.map(function (p) { return p[0] === held ? 8 : (predicted ? 3 : 5); }),
        tension: 0,
      };
    });
    if (spec.target) {
      datasets.push({
        label: spec.target.label,
        data: [{ x: minX, y: spec.target.value }, { x: maxX, y: spec.target.value }],
        borderColor: "#cf222e",
        backgroundColor: "#cf222e",
        borderDash: [2, 3],
        borderWidth: 2,
        pointRadius: 0,
        tension: 0,
      });
    }
    var logX = maxX >= 8;
    var xDecades = Math.log10(maxX / Math.max(minX, 1));
    var yValues = [];
    spec.series.forEach(function (s) { s.points.forEach(function (p) { yValues.push(p[1]); }); });
    if (spec.target) { yValues.push(spec.target.value); }
    var yDecades = decadesOf(yValues);
    new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: true,
        plugins: {
          title: { display: true, text: spec.title },
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var y = latency ? humanMs(ctx.parsed.y) : Math.round(ctx.parsed.y) + " " + spec.y_label;
                return ctx.dataset.label + ": " + y + " at " + ctx.parsed.x + " concurrent";
              },
            },
          },
        },
        scales: {
          x: {
            type: logX ? "logarithmic" : "linear",
            min: logX ? undefined : Math.max(0, Math.floor(minX)),
            title: { display: true, text: spec.x_label },
            ticks: {
              precision: 0,
              stepSize: logX ? undefined : 1,
              maxRotation: 0,
              autoSkip: false,
              // Concurrency is a count of users: integer ticks only.
              callback: function (value) {
                if (!Number.isInteger(value)) { return ""; }
                return !logX || isRoundLogTick(value, xDecades) ? String(value) : "";
              },
            },
          },
          y: {
            type: spec.y_scale === "logarithmic" ? "logarithmic" : "linear",
            beginAtZero: spec.y_scale !== "logarithmic",
            title: { display: true, text: latency ? "p95 latency (log scale)" : spec.y_label },
            ticks: {
              autoSkip: false,
              callback: function (value) {
                if (spec.y_scale === "logarithmic") {
                  return isRoundLogTick(value, yDecades) ? humanMs(value) : "";
                }
                return value;
              },
            },
          },
        },
      },
    });
  }

  function barChart(canvas, spec) {
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.bars.map(function (bar) { return bar.label; }),
        datasets: [{
          label: spec.y_label,
          data: spec.bars.map(function (bar) { return bar.users; }),
          backgroundColor: spec.bars.map(function (bar) {
            return bar.source === "model" ? "#ffffff" : colourFor(bar);
          }),
          borderColor: spec.bars.map(colourFor),
          borderWidth: 2,
        }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        // Horizontal bars: the run names stay readable in a narrow column.
        indexAxis: "y",
        plugins: {
          title: { display: true, text: spec.title },
          subtitle: { display: Boolean(spec.subtitle), text: spec.subtitle || "" },
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var bar = spec.bars[ctx.dataIndex];
                return bar.users + " users within target (levels up to " + bar.tested_up_to + ")";
              },
            },
          },
        },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: spec.y_label } },
          y: { ticks: { autoSkip: false } },
        },
      },
    });
  }

  function initCharts(root) {
    if (typeof window.Chart === "undefined") { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.chartReady) { return; }
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      if (spec.kind === "bar") { barChart(canvas, spec); } else { lineChart(canvas, spec); }
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
