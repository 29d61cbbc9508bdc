// Monitoring: drift per feature of each monitored model, and cost per model and route when cost attribution is on.
import { live, manage } from '../app.js';
import { h } from './common.js';
import { format } from '../chart.js';

export function monitoring(main) {
  main.append(h('h1', {}, 'Monitoring'));
  const drift = h('section', { class: 'panel' }, h('h2', {}, 'Drift'));
  const quality = h('section', { class: 'panel', 'data-section': 'quality' }, h('h2', {}, 'Data quality'));
  const cost = h('section', { class: 'panel' }, h('h2', {}, 'Cost'));
  main.append(drift, quality, cost);

  /** The quality rules' counts, live from the stream. */
  function update() {
    const rules = live.latest?.quality ?? [];
    quality.replaceChildren(h('h2', {}, 'Data quality'), rules.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Model', 'Rule', 'Policy', 'Checked', 'Broken'].map(t => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rules.map(r => h('tr', { 'data-rule': r.rule },
          h('td', {}, `${r.model} v${r.version}`), h('td', {}, r.rule), h('td', {}, r.policy), h('td', { class: 'num' }, r.checked),
          h('td', { class: r.broken ? 'num state-bad' : 'num' }, r.broken))))))
      : h('p', { class: 'muted' }, 'No data-quality rules (a version\'s monitoring.quality.rules; docs/MONITORING.md).'));
  }

  async function load() {
    const names = [...new Set((live.latest?.models ?? []).map(m => m.name))];
    const reports = (await Promise.all(names.map(name => manage('GET', `/v2/models/${encodeURIComponent(name)}/drift`).catch(() => null)))).filter(Boolean);
    drift.replaceChildren(h('h2', {}, 'Drift'), reports.length ? '' : h('p', { class: 'muted' }, 'No model is monitored: give a version a reference profile (turbine profile) or quality rules (docs/MONITORING.md).'),
      ...reports.flatMap(report => report.versions.map(version => h('div', { 'data-drift': report.model },
        h('h3', {}, `${report.model} v${version.version}`),
        h('p', { class: 'muted' }, `${version.window.rows} rows in the window (${version.window.min_rows} needed)`, version.judged ? `; ${version.dataset_drift ? 'dataset drift' : 'no dataset drift'} (${format(version.drifted_share * 100)}% of features drifted)` : '; not judged yet'),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, ['Feature', 'Method', 'Score', 'Threshold', 'Drifted', 'Missing'].map(t => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, (version.features ?? []).map(f => h('tr', {},
            h('td', {}, f.name), h('td', {}, f.method), h('td', { class: 'num' }, format(f.score)), h('td', { class: 'num' }, format(f.threshold)),
            h('td', { class: f.drifted ? 'state-bad' : 'state-ready' }, f.drifted ? 'yes' : 'no'), h('td', { class: 'num' }, `${format(f.missing_share * 100)}%`))))))))));
    try {
      const report = await manage('GET', '/v2/cost');
      cost.replaceChildren(h('h2', {}, 'Cost'),
        h('p', { class: 'muted' }, `${format(report.cpu_seconds)} CPU seconds (${format(report.idle_cpu_seconds)} idle) at ${report.core_hour_price} ${report.currency} per core-hour`),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, ['Model', 'Version', 'CPU s', 'Cost', `Per 1k requests`].map(t => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, report.models.map(line => h('tr', { 'data-cost': line.model }, h('td', {}, line.model), h('td', {}, line.version), h('td', { class: 'num' }, format(line.cpu_seconds)),
            h('td', { class: 'num' }, `${format(line.cost)} ${report.currency}`), h('td', { class: 'num' }, format(line.cost_per_1k))))))));
    } catch (error) {
      cost.replaceChildren(h('h2', {}, 'Cost'), h('p', { class: 'muted' }, error.message));
    }
  }

  load();
  update();
  live.listeners.add(update);
  const timer = setInterval(load, 5000);
  return () => {
    clearInterval(timer);
    live.listeners.delete(update);
  };
}
