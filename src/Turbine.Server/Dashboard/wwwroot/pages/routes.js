// Routes: each arm's weight (editable), its live rate and breaker; a canary's state with its commands.
import { live, manage, confirmAction } from '../app.js';
import { h, perSecond } from './common.js';

export function routes(main) {
  main.append(h('h1', {}, 'Routes'));
  const list = h('div');
  const message = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  main.append(message, list);

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

  function rates(name) {
    return live.latest?.routes.find(r => r.name === name)?.arms ?? [];
  }

  async function load() {
    let definitions;
    try {
      definitions = await manage('GET', '/v2/routes');
    } catch (error) {
      list.replaceChildren(h('p', { class: 'error' }, error.message));
      return;
    }
    const all = Array.isArray(definitions) ? definitions : definitions.routes ?? [];
    if (!all.length) {
      list.replaceChildren(h('p', { class: 'muted' }, 'No routes. Set one with PUT /v2/routes/{name} or turbine routes set (docs/TRAFFIC.md).'));
      return;
    }
    list.replaceChildren(...all.map(route => {
      const inputs = route.variants.map(() => null);
      const rows = route.variants.map((variant, i) => {
        const name = variant.version ? `${variant.model}:${variant.version}` : variant.model;
        inputs[i] = h('input', { type: 'number', min: '0', step: 'any', value: variant.weight ?? 1, 'aria-label': `Weight of ${name}`, 'data-variant': name, class: 'weight' });
        const arm = rates(route.name).find(a => a.variant === name);
        return h('tr', {}, h('td', {}, name), h('td', {}, inputs[i]),
          h('td', { class: 'num', 'data-rate': name }, perSecond(arm?.requests_per_second)), h('td', {}, arm?.circuit ?? '–'));
      });
      const save = h('button', { class: 'primary', onclick: () => {
        const changed = { ...route, variants: route.variants.map((v, i) => ({ ...v, weight: Number(inputs[i].value) })) };
        delete changed.name;
        act(`Save the weights of route '${route.name}'? Traffic moves at once.`, 'PUT', `/v2/routes/${encodeURIComponent(route.name)}`, changed);
      } }, 'Save weights');
      const canary = route.canary ? h('p', {}, 'Canary: ',
        ['pause', 'resume', 'promote', 'rollback'].map(action => h('button', { onclick: () => act(`${action} the canary of '${route.name}'?`, 'POST', `/v2/routes/${encodeURIComponent(route.name)}/canary/${action}`, {}) }, action))) : '';
      return h('section', { class: 'panel', 'data-route': route.name }, h('h2', {}, route.name),
        h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Variant'), h('th', {}, 'Weight'), h('th', { class: 'num' }, 'Requests'), h('th', {}, 'Breaker'))), h('tbody', {}, rows))),
        h('p', {}, save), canary);
    }));
  }

  function update() {
    for (const route of live.latest?.routes ?? []) {
      for (const arm of route.arms) {
        const cell = list.querySelector(`[data-route="${CSS.escape(route.name)}"] [data-rate="${CSS.escape(arm.variant)}"]`);
        if (cell) cell.textContent = perSecond(arm.requests_per_second);
      }
    }
  }

  load();
  live.listeners.add(update);
  return () => live.listeners.delete(update);
}
