// Every loaded model version, live: searchable and paged, so 200 models stay readable.
import { live } from '../app.js';
import { h, ms, perSecond } from './common.js';

const PAGE = 25;

export function models(main) {
  main.append(h('h1', {}, 'Models'));
  let query = '';
  let page = 0;
  const search = h('input', { type: 'search', placeholder: 'Search models', 'aria-label': 'Search models', oninput: () => { query = search.value.trim().toLowerCase(); page = 0; update(); } });
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  main.append(h('div', { class: 'toolbar' }, search, count));
  const body = h('tbody');
  main.append(h('div', { class: 'table-wrap panel' }, h('table', {},
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Model'), h('th', { scope: 'col' }, 'Version'), h('th', { scope: 'col', class: 'num' }, 'Requests'),
      h('th', { scope: 'col', class: 'num' }, 'Errors'), h('th', { scope: 'col', class: 'num' }, 'p50'), h('th', { scope: 'col', class: 'num' }, 'p99'),
      h('th', { scope: 'col', class: 'num hide-narrow' }, 'Queued'), h('th', { scope: 'col', class: 'num hide-narrow' }, 'Running'))),
    body)));
  const previous = h('button', { onclick: () => { page--; update(); } }, 'Previous');
  const next = h('button', { onclick: () => { page++; update(); } }, 'Next');
  const where = h('span', { class: 'muted' });
  main.append(h('div', { class: 'pager' }, previous, where, next));

  function update() {
    const all = (live.latest?.models ?? []).filter(m => !query || m.name.toLowerCase().includes(query));
    const pages = Math.max(1, Math.ceil(all.length / PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    count.textContent = `${all.length} model versions`;
    where.textContent = `page ${page + 1} of ${pages}`;
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
    body.replaceChildren(...all.slice(page * PAGE, (page + 1) * PAGE).map(m => h('tr', { 'data-model': m.name },
      h('td', {}, h('a', { href: `#/models/${encodeURIComponent(m.name)}` }, m.name)), h('td', {}, m.version),
      h('td', { class: 'num' }, perSecond(m.requests_per_second)), h('td', { class: m.errors_per_second > 0 ? 'num state-bad' : 'num' }, perSecond(m.errors_per_second)),
      h('td', { class: 'num' }, ms(m.p50_ms)), h('td', { class: 'num' }, ms(m.p99_ms)),
      h('td', { class: 'num hide-narrow' }, m.queued), h('td', { class: 'num hide-narrow' }, m.executing))));
  }

  update();
  live.listeners.add(update);
  return () => live.listeners.delete(update);
}
