// One route: the weight editor, each arm's live figures, the A/B report with its intervals, the shadow's agreement,
// and the canary rollout with its gates against their limits, its audit log and its commands.
import { lineChart, format } from '../chart.js';
import { live, manage, act } from '../app.js';
import { h, series, perSecond, ms } from './common.js';

const REFRESH_MS = 2000;

export function route(main, name) {
  const path = `/v2/routes/${encodeURIComponent(name)}`;
  main.append(h('h1', {}, `Route ${name}`));
  const message = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const weights = h('section', { class: 'panel' }, h('h2', {}, 'Arms'));
  const canary = h('section', { class: 'panel', 'data-section': 'canary' }, h('h2', {}, 'Canary rollout'));
  const report = h('section', { class: 'panel', 'data-section': 'report' }, h('h2', {}, 'A/B report'));
  const shadow = h('section', { class: 'panel', 'data-section': 'shadow' }, h('h2', {}, 'Shadow'));
  const charts = h('div', { class: 'grid' });
  main.append(message, h('div', { class: 'grid' }, weights, canary), charts, h('div', { class: 'grid' }, report, shadow));
  let definition;
  let chart;
  let fetched = 0;

  const perform = (text, method, target, body) => act(message, text, method, target, body, load);

  async function load() {
    try {
      definition = await manage('GET', path);
    } catch (error) {
      weights.replaceChildren(h('p', { class: 'error' }, error.message));
      return;
    }
    const names = definition.variants.map(v => (v.version ? `${v.model}:${v.version}` : v.model));
    const inputs = names.map((variant, i) => h('input', { type: 'number', min: '0', step: 'any', value: definition.variants[i].weight ?? 1, class: 'weight', 'aria-label': `Weight of ${variant}` }));
    weights.replaceChildren(h('h2', {}, 'Arms'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Variant'), h('th', { scope: 'col' }, 'Weight'), h('th', { scope: 'col', class: 'num' }, 'Share'), h('th', { scope: 'col', class: 'num' }, 'Requests'), h('th', { scope: 'col' }, 'Breaker'))),
        h('tbody', {}, names.map((variant, i) => h('tr', { 'data-variant': variant },
          h('td', {}, variant), h('td', {}, inputs[i]), h('td', { class: 'num', 'data-share': '' }, '–'), h('td', { class: 'num', 'data-rate': '' }, '–'), h('td', { 'data-circuit': '' }, '–')))))),
      h('p', {}, h('button', { class: 'primary', onclick: () => {
        const changed = { ...definition, variants: definition.variants.map((v, i) => ({ ...v, weight: Number(inputs[i].value) })) };
        delete changed.name;
        perform(`Save the weights of route '${name}'? Traffic moves at once.`, 'PUT', path, changed);
      } }, 'Save weights')));
    if (!chart) {
      chart = lineChart(charts, 'Requests per second by arm', names.map((label, i) => ({ label, color: `--series-${(i % 3) + 1}` })), '/s');
    }
    if (!definition.canary) canary.replaceChildren(h('h2', {}, 'Canary rollout'), h('p', { class: 'muted' }, 'This route has no canary.'));
    if (!definition.shadow) shadow.replaceChildren(h('h2', {}, 'Shadow'), h('p', { class: 'muted' }, 'This route has no shadow.'));
    await refresh();
    update();
  }

  async function refresh() {
    fetched = Date.now();
    const calls = [manage('GET', `${path}/report`)];
    if (definition?.canary) calls.push(manage('GET', `${path}/canary`));
    try {
      const [figures, rollout] = await Promise.all(calls);
      drawReport(figures);
      if (rollout) drawCanary(rollout);
    } catch (error) {
      report.replaceChildren(h('h2', {}, 'A/B report'), h('p', { class: 'error' }, error.message));
    }
  }

  function interval(low, high, rate) {
    return rate === null || rate === undefined ? '–' : `${format(rate * 100)}% [${format(low * 100)}, ${format(high * 100)}]`;
  }

  function drawReport(figures) {
    report.replaceChildren(h('h2', {}, 'A/B report'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Arm'), h('th', { scope: 'col', class: 'num' }, 'Requests'), h('th', { scope: 'col' }, 'Conversion (95% CI)'),
          h('th', { scope: 'col' }, 'Mean value (95% CI)'), h('th', { scope: 'col', class: 'num', title: 'p-value of the conversion rate against the baseline arm' }, 'p'))),
        h('tbody', {}, figures.arms.map(arm => h('tr', {},
          h('td', {}, arm.variant), h('td', { class: 'num' }, arm.requests),
          h('td', {}, interval(arm.conversions.ci95_low, arm.conversions.ci95_high, arm.conversions.rate)),
          h('td', {}, arm.values.mean === null ? '–' : `${format(arm.values.mean)} [${format(arm.values.ci95_low)}, ${format(arm.values.ci95_high)}]`),
          h('td', { class: 'num' }, arm.conversions.p_vs_baseline === undefined ? 'baseline' : format(arm.conversions.p_vs_baseline))))))),
      h('p', { class: 'hint' }, 'Conversions and values come from feedback (POST /v2/models/{model}/feedback with the request id).'));
    if (figures.shadow) {
      const s = figures.shadow;
      shadow.replaceChildren(h('h2', {}, `Shadow ${s.variant} (${Math.round(s.share * 100)}%)`), h('dl', { class: 'kv' },
        h('dt', {}, 'Compared'), h('dd', {}, `${s.compared} of ${s.mirrored} mirrored (${s.dropped} dropped, ${s.shed} shed, ${s.failed} failed)`),
        h('dt', {}, 'Exact match'), h('dd', { 'data-field': 'exact' }, s.exact_match_rate === null ? '–' : `${format(s.exact_match_rate * 100)}%`),
        h('dt', {}, 'Top-1 agreement'), h('dd', {}, s.top1_agreement === null || s.top1_agreement === undefined ? '–' : `${format(s.top1_agreement * 100)}%`),
        h('dt', {}, 'Largest difference'), h('dd', {}, format(s.max_abs_diff)),
        h('dt', {}, 'Mean difference'), h('dd', {}, format(s.mean_abs_diff)),
        h('dt', {}, 'Latency'), h('dd', {}, `primary ${ms(s.primary_mean_ms)}, shadow ${ms(s.shadow_mean_ms)}`)));
    }
  }

  function gate(label, value, limit, shown) {
    const passing = limit === undefined || limit === null ? null : value <= limit;
    return h('tr', {}, h('td', {}, label), h('td', { class: 'num' }, shown(value)), h('td', { class: 'num' }, limit === undefined || limit === null ? '–' : shown(limit)),
      h('td', { class: passing === null ? 'muted' : passing ? 'state-ready' : 'state-bad' }, passing === null ? 'not gated' : passing ? 'within' : 'over'));
  }

  function drawCanary(rollout) {
    const plan = definition.canary;
    const f = rollout.figures;
    const percent = value => `${format(value * 100)}%`;
    canary.replaceChildren(h('h2', {}, 'Canary rollout'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'State'), h('dd', { 'data-field': 'canary-state' }, rollout.state),
        h('dt', {}, 'Step'), h('dd', {}, `${rollout.step} of ${rollout.steps}: ${rollout.canary_percent}% to the canary`),
        h('dt', {}, 'This step'), h('dd', {}, `${f.requests} requests over ${format(f.step_seconds)} s (at least ${plan.min_step_requests} and ${plan.min_step_duration_s} s)`)),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Gate'), h('th', { scope: 'col', class: 'num' }, 'Now'), h('th', { scope: 'col', class: 'num' }, 'Limit'), h('th', { scope: 'col' }, ''))),
        h('tbody', {},
          gate('Error rate', f.error_rate, plan.max_error_rate, percent),
          gate('p99', f.p99_ms, plan.max_p99_ms, ms),
          gate('Disagreement', f.disagreement, plan.max_disagreement, percent)))),
      h('p', {}, ['pause', 'resume', 'promote', 'rollback'].map(action =>
        h('button', { class: action === 'rollback' ? 'danger' : '', onclick: () => perform(`${action[0].toUpperCase()}${action.slice(1)} the canary of '${name}'?`, 'POST', `${path}/canary/${action}`, {}) }, action))),
      h('h2', {}, 'Audit log'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'By'), h('th', { scope: 'col' }, 'Weight'), h('th', { scope: 'col' }, 'Why'))),
        h('tbody', { 'data-field': 'audit' }, rollout.decisions.slice().reverse().map(d => h('tr', {},
          h('td', {}, new Date(d.time).toLocaleTimeString()), h('td', {}, d.action), h('td', {}, d.actor),
          h('td', {}, `${d.from_percent}% → ${d.to_percent}%`), h('td', { class: 'wrap' }, d.reason)))))));
  }

  function update() {
    const figures = live.latest?.routes.find(r => r.name === name);
    for (const arm of figures?.arms ?? []) {
      const row = weights.querySelector(`tr[data-variant="${CSS.escape(arm.variant)}"]`);
      if (!row) continue;
      row.querySelector('[data-share]').textContent = `${Math.round(arm.weight * 100)}%`;
      row.querySelector('[data-rate]').textContent = perSecond(arm.requests_per_second);
      row.querySelector('[data-circuit]').textContent = arm.circuit ?? '–';
    }
    if (chart && definition) {
      const names = definition.variants.map(v => (v.version ? `${v.model}:${v.version}` : v.model));
      chart.update(names.map(variant => series(live.history, x => x.routes.find(r => r.name === name)?.arms.find(a => a.variant === variant)?.requests_per_second)));
    }
    if (definition && Date.now() - fetched >= REFRESH_MS) refresh();
  }

  load();
  live.listeners.add(update);
  return () => live.listeners.delete(update);
}
