// Grouped bar charts in plain SVG (no library: four small charts do not need one). Each bar carries
// data-label, data-series and data-value, and a <title> for a tooltip; the figure says what it shows.
const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#3a6ea5', '#c0504d', '#9bbb59', '#8064a2', '#f79646', '#4bacc6', '#7f7f7f', '#b5a000'];

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

/**
 * @param {{ id: string, title: string, labels: string[], series: { name: string, values: number[] }[], unit?: string, max?: number }} chart
 */
export function barChart({ id, title, labels, series, unit = '', max }) {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.dataset.chart = id;
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  figure.append(caption);
  if (labels.length === 0) {
    const empty = document.createElement('p');
    empty.className = 'chart-empty';
    empty.textContent = 'No data in this range.';
    figure.append(empty);
    return figure;
  }
  const width = 520, height = 220, left = 44, bottom = 40, top = 10;
  const top_ = max ?? Math.max(1, ...series.flatMap((s) => s.values));
  const group = (width - left - 10) / labels.length;
  const bar = Math.max(2, (group - 6) / series.length);
  const y = (v) => top + (height - top - bottom) * (1 - v / top_);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}: ${labels.length} groups, ${series.length} series` });
  root.append(svg('line', { x1: left, y1: y(0), x2: width - 10, y2: y(0), stroke: '#888' }));
  root.append(svg('text', { x: left - 4, y: y(top_) + 4, 'text-anchor': 'end', 'font-size': 10 }, `${round(top_)}${unit}`));
  root.append(svg('text', { x: left - 4, y: y(0), 'text-anchor': 'end', 'font-size': 10 }, `0${unit}`));
  labels.forEach((label, i) => {
    const x0 = left + i * group + 3;
    series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const rect = svg('rect', { x: x0 + j * bar, y: y(v), width: Math.max(1, bar - 1), height: Math.max(0, y(0) - y(v)), fill: COLORS[j % COLORS.length], 'data-label': label, 'data-series': s.name, 'data-value': v });
      rect.append(svg('title', {}, `${label} · ${s.name}: ${round(v)}${unit}`));
      root.append(rect);
    });
    root.append(svg('text', { x: x0 + group / 2 - 3, y: height - bottom + 14, 'text-anchor': 'middle', 'font-size': 10 }, label));
  });
  figure.append(root);
  if (series.length > 1 || series[0]?.name) {
    const legend = document.createElement('ul');
    legend.className = 'chart-legend';
    series.forEach((s, j) => {
      const item = document.createElement('li');
      const swatch = svg('svg', { width: 10, height: 10, 'aria-hidden': 'true' });
      swatch.append(svg('rect', { width: 10, height: 10, fill: COLORS[j % COLORS.length] }));
      item.append(swatch, ` ${s.name}`);
      legend.append(item);
    });
    figure.append(legend);
  }
  return figure;
}

const round = (v) => (Math.round(v * 10) / 10).toString();
