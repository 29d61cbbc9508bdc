// One model: its versions, default version and labels with the actions that change them, its configuration, and its charts.
import { lineChart } from '../chart.js';
import { live, manage, act } from '../app.js';
import { h, series } from './common.js';

export function model(main, name) {
  const path = `/v2/repository/models/${encodeURIComponent(name)}`;
  main.append(h('h1', {}, name));
  const serving = h('section', { class: 'panel', 'aria-labelledby': 'serving-title' }, h('h2', { id: 'serving-title' }, 'Versions'));
  const message = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const grid = h('div', { class: 'grid' });
  const config = h('section', { class: 'panel' }, h('h2', {}, 'Configuration'));
  main.append(h('div', { class: 'grid' }, serving, config), grid);
  const traffic = lineChart(grid, 'Requests per second', [{ label: 'requests' }, { label: 'errors', color: '--series-2' }], '/s');
  const latency = lineChart(grid, 'Latency', [{ label: 'p50' }, { label: 'p99', color: '--series-3' }], 'ms');
  const queue = lineChart(grid, 'Queue', [{ label: 'queued' }, { label: 'running', color: '--series-3' }]);
  const batches = h('section', { class: 'panel', 'data-section': 'batches' }, h('h2', {}, 'Batch sizes'));
  grid.append(batches);
  const details = h('div');
  serving.append(details, message);

  const perform = (text, method, target, body) => act(message, text, method, target, body, load);

  async function load() {
    let view;
    try {
      view = await manage('GET', `${path}/versions`);
    } catch (error) {
      details.replaceChildren(h('p', { class: 'error' }, error.message));
      return;
    }
    const versions = view.versions ?? [];
    const labels = Object.entries(view.labels ?? {});
    const label = h('input', { name: 'label', required: true, pattern: '[A-Za-z][A-Za-z0-9_-]{0,63}', 'aria-label': 'Label', placeholder: 'stable' });
    const version = h('select', { name: 'version', 'aria-label': 'Version' }, versions.map(v => h('option', { value: v }, v)));
    details.replaceChildren(
      h('dl', { class: 'kv' },
        h('dt', {}, 'Serving'), h('dd', { 'data-field': 'versions' }, versions.join(', ') || 'none'),
        h('dt', {}, 'Default'), h('dd', { 'data-field': 'default' }, view.default_version ?? 'newest', view.pinned ? ' (pinned)' : ''),
        h('dt', {}, 'Labels'), h('dd', { 'data-field': 'labels' }, labels.map(([l, v]) => `${l} → ${v}`).join(', ') || 'none')),
      h('h2', {}, 'Actions'),
      h('form', { class: 'inline', onsubmit: event => {
        event.preventDefault();
        perform(`Point label '${label.value}' of ${name} at version ${version.value}?`, 'PUT', `${path}/labels/${encodeURIComponent(label.value)}`, { version: Number(version.value) });
      } }, h('label', {}, 'Label', label), h('label', {}, 'Version', version), h('button', { type: 'submit' }, 'Set label')),
      h('p', {},
        h('button', { onclick: () => perform(`Pin version ${version.value} of ${name} as its default?`, 'PUT', `${path}/default`, { version: Number(version.value) }) }, 'Make default'),
        ' ',
        h('button', { class: 'danger', onclick: () => perform(`Roll ${name} back to its previous version?`, 'POST', `${path}/rollback`, {}) }, 'Roll back'),
        ' ',
        h('button', { onclick: () => perform(`Load ${name} again from the repository? Changed versions are loaded and warmed before they serve.`, 'POST', `${path}/load`, {}) }, 'Reload'),
        ' ',
        h('button', { class: 'danger', onclick: () => perform(`Unload ${name}? It stops serving; requests in flight finish.`, 'POST', `${path}/unload`, {}) }, 'Unload')));
  }

  /** Executions per batch size, from the statistics extension (every version together). */
  async function loadBatches() {
    try {
      const response = await fetch(`/v2/models/${encodeURIComponent(name)}/stats`);
      const stats = await response.json();
      const counts = new Map();
      for (const version of stats.model_stats ?? []) {
        for (const batch of version.batch_stats ?? []) counts.set(batch.batch_size, (counts.get(batch.batch_size) ?? 0) + batch.compute_infer.count);
      }
      const rows = [...counts.entries()].sort((a, b) => a[0] - b[0]);
      const top = Math.max(1, ...rows.map(r => r[1]));
      batches.replaceChildren(h('h2', {}, 'Batch sizes'), rows.length ? h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rows'), h('th', { scope: 'col', class: 'num' }, 'Executions'), h('th', { scope: 'col' }, ''))),
        h('tbody', {}, rows.map(([size, count]) => h('tr', {}, h('td', {}, size), h('td', { class: 'num' }, count),
          h('td', {}, h('meter', { min: 0, max: top, value: count, 'aria-label': `${count} executions of ${size} rows` }))))))
        : h('p', { class: 'muted' }, 'No executions yet.'));
    } catch (error) {
      batches.append(h('p', { class: 'error' }, error.message));
    }
  }

  async function loadConfig() {
    try {
      const response = await fetch(`/v2/models/${encodeURIComponent(name)}/config`);
      config.append(h('pre', {}, JSON.stringify(await response.json(), null, 2)));
    } catch (error) {
      config.append(h('p', { class: 'error' }, error.message));
    }
  }

  function update() {
    const history = live.history;
    const of = snapshot => snapshot.models.filter(m => m.name === name);
    const sum = (snapshot, field) => of(snapshot).reduce((total, m) => total + (m[field] ?? 0), 0);
    const max = (snapshot, field) => Math.max(...of(snapshot).map(m => m[field] ?? 0), 0);
    traffic.update([series(history, x => sum(x, 'requests_per_second')), series(history, x => sum(x, 'errors_per_second'))]);
    latency.update([series(history, x => max(x, 'p50_ms')), series(history, x => max(x, 'p99_ms'))]);
    queue.update([series(history, x => sum(x, 'queued')), series(history, x => sum(x, 'executing'))]);
  }

  load();
  loadConfig();
  loadBatches();
  update();
  live.listeners.add(update);
  const timer = setInterval(loadBatches, 5000);
  return () => {
    live.listeners.delete(update);
    clearInterval(timer);
  };
}
