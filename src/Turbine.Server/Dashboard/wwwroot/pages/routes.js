// Routes: each route's arms with their weights, live rates and breakers; a link to its detail.
import { live, manage } from '../app.js';
import { h, perSecond } from './common.js';

/** An arm as the list shows it: variant, share, rate, and its breaker when it is not closed. */
const describe = arm => `${arm.variant} ${Math.round(arm.weight * 100)}% · ${perSecond(arm.requests_per_second)}${arm.circuit && arm.circuit !== 'closed' ? ` · ${arm.circuit}` : ''}`;

export function routes(main) {
  main.append(h('h1', {}, 'Routes'));
  const list = h('div');
  main.append(list);

  async function load() {
    let all;
    try {
      all = await manage('GET', '/v2/routes');
    } catch (error) {
      list.replaceChildren(h('p', { class: 'error' }, error.message));
      return;
    }
    if (!all.length) {
      list.replaceChildren(h('p', { class: 'muted' }, 'No routes. Set one with PUT /v2/routes/{name} or turbine routes set (docs/TRAFFIC.md).'));
      return;
    }
    list.replaceChildren(h('div', { class: 'table-wrap panel' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Route'), h('th', { scope: 'col' }, 'Arms'), h('th', { scope: 'col' }, 'Canary'), h('th', { scope: 'col' }, 'Shadow'))),
      h('tbody', {}, all.map(route => h('tr', { 'data-route': route.name },
        h('td', {}, h('a', { href: `#/routes/${encodeURIComponent(route.name)}` }, route.name)),
        h('td', { 'data-arms': route.name }, arms(route.name, route)),
        h('td', {}, route.canary ? `${route.canary.steps.join('% → ')}%` : '–'),
        h('td', {}, route.shadow ? `${route.shadow.model} (${Math.round(route.shadow.share * 100)}%)` : '–')))))));
  }

  function arms(name, route) {
    const figures = live.latest?.routes.find(r => r.name === name)?.arms ?? [];
    return route.variants.map(v => {
      const variant = v.version ? `${v.model}:${v.version}` : v.model;
      return describe(figures.find(a => a.variant === variant) ?? { variant, weight: 0 });
    }).join('  |  ');
  }

  function update() {
    for (const route of live.latest?.routes ?? []) {
      const cell = list.querySelector(`[data-arms="${CSS.escape(route.name)}"]`);
      if (cell) cell.textContent = route.arms.map(describe).join('  |  ');
    }
  }

  load();
  live.listeners.add(update);
  return () => live.listeners.delete(update);
}
