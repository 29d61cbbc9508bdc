// Pipelines: each one's graph (steps placed by what they consume, arrows from producer to consumer) and per-step timings.
import { manage } from '../app.js';
import { h, ms } from './common.js';
import { format } from '../chart.js';

const SVG = 'http://www.w3.org/2000/svg';
const BOX = { width: 150, height: 44, gapX: 60, gapY: 18 };

function svg(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  parent?.appendChild(node);
  return node;
}

/** The tensors a step reads and the ones it writes, whatever its kind. */
function tensors(step) {
  const reads = [...Object.values(step.input_map ?? {}), ...(step.inputs ?? []), ...(step.switch?.tensor ? [step.switch.tensor] : [])];
  const writes = [...Object.values(step.output_map ?? {}), ...(step.output ? [step.output] : [])];
  return { reads, writes };
}

function target(step) {
  if (step.aggregate) return step.aggregate;
  if (step.switch) return 'switch';
  if (step.cascade) return `cascade of ${step.cascade.stages.length}`;
  return step.version ? `${step.model}:${step.version}` : step.model;
}

/** Draws the steps in columns by depth (a step sits right of every step it reads from). */
function graph(pipeline) {
  const producers = new Map();
  pipeline.steps.forEach(step => tensors(step).writes.forEach(t => producers.set(t, step.name)));
  const depth = new Map();
  const depthOf = (step, seen = new Set()) => {
    if (depth.has(step.name)) return depth.get(step.name);
    if (seen.has(step.name)) return 0;
    seen.add(step.name);
    const parents = tensors(step).reads.map(t => producers.get(t)).filter(Boolean).map(name => pipeline.steps.find(s => s.name === name));
    const value = parents.length ? 1 + Math.max(...parents.map(p => depthOf(p, seen))) : 0;
    depth.set(step.name, value);
    return value;
  };
  pipeline.steps.forEach(step => depthOf(step));
  const columns = new Map();
  const place = new Map();
  for (const step of pipeline.steps) {
    const column = depth.get(step.name);
    const row = columns.get(column) ?? 0;
    columns.set(column, row + 1);
    place.set(step.name, { x: 10 + column * (BOX.width + BOX.gapX), y: 10 + row * (BOX.height + BOX.gapY) });
  }
  const width = 20 + Math.max(...[...columns.keys()].map(c => c + 1)) * (BOX.width + BOX.gapX) - BOX.gapX;
  const height = 20 + Math.max(...columns.values()) * (BOX.height + BOX.gapY) - BOX.gapY;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `Graph of pipeline ${pipeline.name}`, class: 'graph' });
  svg('defs', {}, root).innerHTML = '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"></path></marker>';
  for (const step of pipeline.steps) {
    for (const tensor of tensors(step).reads) {
      const from = producers.get(tensor);
      if (!from) continue;
      const a = place.get(from), b = place.get(step.name);
      svg('line', { x1: a.x + BOX.width, y1: a.y + BOX.height / 2, x2: b.x, y2: b.y + BOX.height / 2, class: 'edge', 'marker-end': 'url(#arrow)' }, root);
    }
  }
  for (const step of pipeline.steps) {
    const { x, y } = place.get(step.name);
    const group = svg('g', { 'data-step': step.name }, root);
    svg('rect', { x, y, width: BOX.width, height: BOX.height, rx: 6, class: 'node' }, group);
    svg('text', { x: x + 8, y: y + 18, class: 'node-name' }, group).textContent = step.name;
    svg('text', { x: x + 8, y: y + 35, class: 'node-target' }, group).textContent = target(step);
  }
  return h('div', { class: 'table-wrap' }, root);
}

export function pipelines(main) {
  main.append(h('h1', {}, 'Pipelines'));
  const list = h('div');
  main.append(list);

  async function load() {
    let all;
    try {
      all = await manage('GET', '/v2/pipelines');
    } catch (error) {
      list.replaceChildren(h('p', { class: 'error' }, error.message));
      return;
    }
    if (!all.length) {
      list.replaceChildren(h('p', { class: 'muted' }, 'No pipelines. Set one with PUT /v2/pipelines/{name} or turbine pipelines set (docs/TRAFFIC.md).'));
      return;
    }
    const sections = await Promise.all(all.map(async pipeline => {
      const stats = await manage('GET', `/v2/pipelines/${encodeURIComponent(pipeline.name)}/stats`).catch(() => null);
      const mean = d => (d && d.count ? d.ns / d.count / 1e6 : null);
      return h('section', { class: 'panel', 'data-pipeline': pipeline.name }, h('h2', {}, pipeline.name),
        graph(pipeline),
        h('p', { class: 'muted' }, stats ? `${stats.success.count} answered (mean ${ms(mean(stats.success))}), ${stats.fail.count} failed` : ''),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Step'), h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col', class: 'num' }, 'Runs'),
            h('th', { scope: 'col', class: 'num' }, 'Mean'), h('th', { scope: 'col', class: 'num' }, 'Failed'), h('th', { scope: 'col' }, 'Detail'))),
          h('tbody', {}, (stats?.steps ?? []).map(step => h('tr', { 'data-step-row': step.name },
            h('td', {}, step.name), h('td', {}, step.kind), h('td', { class: 'num' }, step.success.count), h('td', { class: 'num' }, ms(mean(step.success))),
            h('td', { class: 'num' }, step.fail.count),
            h('td', {}, step.stages ? `${step.stages.map(s => `${s.model}: ${s.answered}`).join(', ')}; escalated ${format(step.escalated_share * 100)}%`
              : step.cases ? Object.entries(step.cases).map(([k, v]) => `${k}: ${v}`).join(', ') : '')))))));
    }));
    list.replaceChildren(...sections);
  }

  load();
  const timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}
