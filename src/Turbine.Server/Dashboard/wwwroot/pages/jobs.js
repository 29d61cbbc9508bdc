// Batch jobs: progress, speed and time left, errors, and cancel.
import { manage, act } from '../app.js';
import { h } from './common.js';
import { format } from '../chart.js';

function duration(seconds) {
  if (seconds === undefined || seconds === null) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${format(seconds / 3600)} h`;
}

export function jobs(main) {
  main.append(h('h1', {}, 'Batch jobs'));
  const message = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const list = h('div');
  main.append(message, list);

  const cancel = id => act(message, `Cancel job ${id}? Partitions running finish; the rest do not start.`, 'POST', `/v2/jobs/${encodeURIComponent(id)}/cancel`, {}, load);

  async function load() {
    let answer;
    try {
      answer = await manage('GET', '/v2/jobs');
    } catch (error) {
      list.replaceChildren(h('p', { class: 'muted' }, error.message));
      return;
    }
    const all = answer.jobs ?? [];
    if (!all.length) {
      list.replaceChildren(h('p', { class: 'muted' }, 'No jobs yet (turbine batch submit, or POST /v2/jobs; docs/BATCH.md).'));
      return;
    }
    list.replaceChildren(h('div', { class: 'table-wrap panel' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Job', 'Model', 'State', 'Progress', 'Rows/s', 'Time left', 'Errors', ''].map(t => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, all.map(job => h('tr', { 'data-job': job.id },
        h('td', {}, job.id), h('td', {}, job.version ? `${job.model}:${job.version}` : job.model),
        h('td', { class: job.state === 'failed' ? 'state-bad' : job.state === 'succeeded' ? 'state-ready' : '' }, job.state, job.reason ? ` (${job.reason})` : ''),
        h('td', {}, h('progress', { max: 100, value: job.progress.percent, 'aria-label': `Progress of ${job.id}` }), ` ${job.progress.percent}% (${job.progress.rows_done} of ${job.progress.rows} rows)`),
        h('td', { class: 'num' }, format(job.progress.rows_per_second)), h('td', {}, duration(job.progress.eta_seconds)),
        h('td', { class: job.progress.errors ? 'num state-bad' : 'num' }, job.progress.errors),
        h('td', {}, ['queued', 'running'].includes(job.state) ? h('button', { class: 'danger', onclick: () => cancel(job.id) }, 'Cancel') : '')))))));
  }

  load();
  const timer = setInterval(load, 2000);
  return () => clearInterval(timer);
}
