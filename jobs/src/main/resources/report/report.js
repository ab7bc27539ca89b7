// Draws the report's charts from the JSON the report job inlined: one ECharts instance (SVG) per chart.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var esc = echarts.format.encodeHTML;
  var ms = function (v) { return (Math.round(v * 10) / 10) + ' ms'; };

  function pareto(c) {
    var tip = function (p) {
      return esc(p.seriesName) + '<br>config ' + esc(p.value[2]) + '<br>' + ms(p.value[0]) +
        ', loss ' + p.value[1].toFixed(4);
    };
    return {
      tooltip: { trigger: 'item', formatter: tip },
      legend: { top: 0 },
      xAxis: { type: 'value', name: 'predicted latency (ms)', nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: { type: 'value', name: 'validation loss (nats)', scale: true },
      series: [
        { name: 'candidate', type: 'scatter', symbolSize: 7, data: c.points, itemStyle: { opacity: 0.55 },
          markLine: { symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#999' },
            label: { formatter: function (p) { return 'budget ' + ms(p.value); } },
            data: c.budgets.map(function (b) { return { xAxis: b }; }) } },
        { name: 'Pareto front', type: 'line', step: 'end', symbolSize: 9, data: c.front,
          lineStyle: { width: 2 }, z: 3 }
      ]
    };
  }

  function progress(c) {
    var series = Object.keys(c.series).map(function (budget) {
      return { name: 'budget ' + budget, type: 'line', data: c.series[budget], symbolSize: 7 };
    });
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      xAxis: { type: 'value', name: 'generation', nameLocation: 'middle', nameGap: 28, minInterval: 1 },
      yAxis: { type: 'value', name: 'best validation loss (nats)', scale: true },
      series: series
    };
  }

  function accuracy(c) {
    var lo = Infinity, hi = -Infinity;
    var series = Object.keys(c.series).map(function (split) {
      c.series[split].forEach(function (p) {
        lo = Math.min(lo, p[0], p[1]);
        hi = Math.max(hi, p[0], p[1]);
      });
      return { name: split, type: 'scatter', symbolSize: 6, data: c.series[split] };
    });
    // one range for both axes, so y = x is the diagonal
    lo = Math.floor(lo * 0.95);
    hi = Math.ceil(hi * 1.05);
    series.push({ name: 'y = x', type: 'line', symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#888' },
      data: [[lo, lo], [hi, hi]] });
    return {
      tooltip: { trigger: 'item', formatter: function (p) {
        return p.value.length > 2 ? esc(p.seriesName) + ' config ' + esc(p.value[2]) + '<br>measured ' + ms(p.value[0]) +
          ', predicted ' + ms(p.value[1]) : esc(p.seriesName);
      } },
      legend: { top: 0 },
      xAxis: { type: 'value', name: 'measured latency (ms)', nameLocation: 'middle', nameGap: 28, min: lo, max: hi },
      yAxis: { type: 'value', name: 'predicted latency (ms)', min: lo, max: hi },
      series: series
    };
  }

  // Encoder layers in the left column, decoder layers in the right, layer 1 at the bottom; box width follows the
  // FFN dim; an arrow runs from every encoder layer whose output a decoder layer attends to, to that decoder layer.
  function arch(c, el) {
    var maxFfn = Math.max.apply(null, c.layers.map(function (l) { return l.ffnDim; }));
    var rows = Math.max.apply(null, c.layers.map(function (l) { return l.index; }));
    el.style.height = (rows * 48 + 40) + 'px';
    var name = function (l) { return (l.stack === 'encoder' ? 'E' : 'D') + l.index; };
    var nodes = c.layers.map(function (l) {
      var enc = l.stack === 'encoder';
      var text = name(l) + ' · FFN ' + l.ffnDim + ' · ' + l.selfHeads + ' heads' +
        (l.crossHeads != null ? ' · cross ' + l.crossHeads + ' heads' : '');
      return { name: name(l), value: [enc ? 0 : 1, l.index - 1],
        symbol: 'rect', symbolSize: [30 + 150 * l.ffnDim / maxFfn, 26],
        itemStyle: { color: enc ? '#5470c6' : '#91cc75' },
        label: { show: true, position: enc ? 'left' : 'right', formatter: text, color: '#222', fontSize: 12 },
        tooltip: { formatter: esc(text + ' · embed ' + l.embedDim) } };
    });
    var links = [];
    c.layers.forEach(function (l) {
      (l.attendsTo || []).forEach(function (e) { links.push({ source: 'E' + e, target: name(l) }); });
    });
    return {
      tooltip: {},
      grid: { left: 340, right: 340, top: 20, bottom: 20 },
      xAxis: { type: 'value', min: 0, max: 1, show: false },
      yAxis: { type: 'value', min: -0.5, max: rows - 0.5, show: false },
      series: [{ type: 'graph', coordinateSystem: 'cartesian2d', data: nodes, links: links,
        lineStyle: { color: '#999', width: 1.5, curveness: 0.15 }, edgeSymbol: ['none', 'arrow'], edgeSymbolSize: 8 }]
    };
  }

  var kinds = { pareto: pareto, progress: progress, accuracy: accuracy, arch: arch };
  var drawn = 0;
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.element);
    var option = kinds[c.kind](c, el);
    option.animation = false;
    var chart = echarts.init(el, null, { renderer: 'svg' });
    chart.setOption(option);
    window.addEventListener('resize', function () { chart.resize(); });
    drawn++;
  });
  document.body.setAttribute('data-charts-drawn', String(drawn));
})();
