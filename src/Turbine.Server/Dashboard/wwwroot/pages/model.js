// One model: its versions, default version and labels with the actions that change them, its configuration, and its charts.
import { lineChart } from '../chart.js';
import { live, manage, confirmAction } from '../app.js';
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
  const details = h('div');
  serving.append(details, message);

  async function act(text, method, target, body) {
    if (!await confirmAction(text)) return;
    try {
      await manage(method, target, body);
      message.textContent = 'Done.';
      message.className = 'muted';
      await load();
    } catch (error) {
      message.textContent = error.message;
      message.className = 'error';
    }
  }

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
        act(`Point label '${label.value}' of ${name} at version ${version.value}?`, 'PUT', `${path}/labels/${encodeURIComponent(label.value)}`, { version: Number(version.value) });
      } }, h('label', {}, 'Label', label), h('label', {}, 'Version', version), h('button', { type: 'submit' }, 'Set label')),
      h('p', {},
        h('button', { onclick: () => act(`Pin version ${version.value} of ${name} as its default?`, 'PUT', `${path}/default`, { version: Number(version.value) }) }, 'Make default'),
        ' ',
        h('button', { class: 'danger', onclick: () => act(`Roll ${name} back to its previous version?`, 'POST', `${path}/rollback`, {}) }, 'Roll back')));
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
  }

  load();
  loadConfig();
  update();
  live.listeners.add(update);
  return () => live.listeners.delete(update);
}
