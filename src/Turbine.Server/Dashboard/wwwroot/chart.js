// A small SVG line chart: time on x, one or more series on y, redrawn whole on each update (an hour at 1 s is 3600 points).

const HEIGHT = 170;
const PAD = { left: 44, right: 8, top: 8, bottom: 20 };
const SVG = 'http://www.w3.org/2000/svg';

function element(name, attributes = {}, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  parent?.appendChild(node);
  return node;
}

/** Formats a byte count in binary units (KiB, MiB, GiB). */
export function formatBytes(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value, unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) { scaled /= 1024; unit++; }
  return `${scaled >= 100 || unit === 0 ? scaled.toFixed(0) : scaled.toFixed(1)} ${units[unit]}`;
}

/** Formats a value for an axis or a legend. */
export function format(value, unit = '') {
  if (unit === 'B') return formatBytes(value);
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  const text = abs >= 1e9 ? `${(value / 1e9).toFixed(1)}G` : abs >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : abs >= 1e3 ? `${(value / 1e3).toFixed(1)}k`
    : abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

/**
 * A chart in `container` titled `title`, with `series` ([{ label, color }]) in `unit`. Returns { update(points) } where
 * points[i] is an array of [timeMs, value] for series i (null values leave gaps).
 */
export function lineChart(container, title, series, unit = '') {
  const panel = document.createElement('section');
  panel.className = 'panel chart';
  const heading = document.createElement('h2');
  heading.textContent = title;
  const legend = document.createElement('div');
  legend.className = 'legend';
  const svg = element('svg', { role: 'img' });
  panel.append(heading, svg, legend);
  container.appendChild(panel);
  const lines = series.map((s, i) => element('polyline', { stroke: `var(${s.color ?? `--series-${i + 1}`})` }));
  const labels = series.map((s, i) => {
    const span = document.createElement('span');
    span.style.setProperty('--c', `var(${s.color ?? `--series-${i + 1}`})`);
    legend.appendChild(span);
    return span;
  });

  function update(points) {
    // Drawn at the chart's own width in pixels, so text keeps its shape on a phone and on a wide screen alike.
    const WIDTH = Math.max(240, Math.round(svg.getBoundingClientRect().width) || 600);
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.replaceChildren();
    const all = points.flat().filter(p => p[1] !== null && p[1] !== undefined);
    const times = all.map(p => p[0]);
    const t0 = Math.min(...times), t1 = Math.max(...times);
    const top = Math.max(1e-9, ...all.map(p => p[1])) * 1.1;
    const x = t => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * (WIDTH - PAD.left - PAD.right);
    const y = v => HEIGHT - PAD.bottom - (v / top) * (HEIGHT - PAD.top - PAD.bottom);
    element('line', { class: 'axis', x1: PAD.left, x2: WIDTH - PAD.right, y1: HEIGHT - PAD.bottom, y2: HEIGHT - PAD.bottom }, svg);
    element('text', { x: 2, y: PAD.top + 10 }, svg).textContent = format(top, unit);
    element('text', { x: 2, y: HEIGHT - PAD.bottom }, svg).textContent = '0';
    if (all.length) {
      element('text', { x: PAD.left, y: HEIGHT - 4 }, svg).textContent = new Date(t0).toLocaleTimeString();
      element('text', { x: WIDTH - PAD.right, y: HEIGHT - 4, 'text-anchor': 'end' }, svg).textContent = new Date(t1).toLocaleTimeString();
    }
    const summary = [];
    points.forEach((serie, i) => {
      const line = lines[i];
      line.setAttribute('points', serie.filter(p => p[1] !== null && p[1] !== undefined).map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' '));
      line.dataset.points = String(serie.length);
      svg.appendChild(line);
      const last = serie.length ? serie[serie.length - 1][1] : null;
      labels[i].textContent = `${series[i].label}: ${format(last, unit)}`;
      summary.push(`${series[i].label} ${format(last, unit)}`);
    });
    svg.setAttribute('aria-label', `${title}: ${summary.join(', ')}`);
  }

  update(series.map(() => []));
  return { update };
}
