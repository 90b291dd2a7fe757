// Draws every chart from its ECharts option, then records what each one
// rendered in <pre id="render-check">: the series and their data points as
// ECharts holds them after setOption, so a headless browser can check the
// page without a debugger.
(function () {
  "use strict";
  var check = document.getElementById("render-check");
  var report = { echarts: null, charts: [], errors: [] };
  try {
    report.echarts = echarts.version;
    var instances = [];
    CHART_SPECS.forEach(function (spec) {
      try {
        var el = document.getElementById(spec.id);
        var chart = echarts.init(el, null, { renderer: "canvas" });
        chart.setOption(spec.option);
        instances.push(chart);
        var series = (chart.getOption().series || []).map(function (s) {
          return { name: String(s.name), type: s.type, points: Array.isArray(s.data) ? s.data.length : 0 };
        });
        report.charts.push({ id: spec.id, series: series });
      } catch (e) {
        report.errors.push(spec.id + ": " + e);
      }
    });
    window.addEventListener("resize", function () {
      instances.forEach(function (c) { c.resize(); });
    });
  } catch (e) {
    report.errors.push(String(e));
  }
  check.textContent = JSON.stringify(report);
})();
