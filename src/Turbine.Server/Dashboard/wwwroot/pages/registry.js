// The registry: each registered model's aliases and versions, and the audit trail of what moved them.
import { manage } from '../app.js';
import { h } from './common.js';

export function registry(main) {
  main.append(h('h1', {}, 'Registry'));
  const list = h('div');
  main.append(list);

  async function load() {
    let answer;
    try {
      answer = await manage('GET', '/v2/registry/models');
    } catch (error) {
      list.replaceChildren(h('p', { class: 'muted' }, error.message));
      return;
    }
    if (!answer.models.length) {
      list.replaceChildren(h('p', { class: 'muted' }, 'The registry holds no models yet (turbine registry push; docs/REGISTRY.md).'));
      return;
    }
    list.replaceChildren(...await Promise.all(answer.models.map(async model => {
      const path = `/v2/registry/models/${encodeURIComponent(model.name)}`;
      const [versions, history] = await Promise.all([manage('GET', `${path}/versions`).catch(() => null), manage('GET', `${path}/history`).catch(() => null)]);
      const aliases = Object.entries(versions?.aliases ?? {});
      return h('section', { class: 'panel', 'data-registry': model.name }, h('h2', {}, model.name),
        h('dl', { class: 'kv' },
          h('dt', {}, 'Aliases'), h('dd', { 'data-field': 'aliases' }, aliases.map(([alias, version]) => `${alias} → ${version}`).join(', ') || 'none'),
          h('dt', {}, 'Versions'), h('dd', {}, (versions?.versions ?? []).map(v => v.version).join(', ') || 'none'),
          h('dt', {}, 'Created'), h('dd', {}, `${new Date(model.created_at).toLocaleString()} by ${model.created_by}`)),
        h('h3', {}, 'History'),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, ['When', 'What', 'Alias', 'Version', 'Before', 'Who'].map(t => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, (history?.entries ?? []).slice(-50).reverse().map(e => h('tr', {},
            h('td', {}, new Date(e.at).toLocaleString()), h('td', {}, e.kind), h('td', {}, e.subject ?? ''), h('td', {}, e.version ?? ''),
            h('td', {}, e.previous ?? ''), h('td', {}, e.actor)))))));
    })));
  }

  load();
  return () => {};
}
