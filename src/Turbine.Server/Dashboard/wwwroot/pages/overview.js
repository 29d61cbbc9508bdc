// The overview: the server's health, its totals over the last interval, and an hour of charts.
import { lineChart, format } from '../chart.js';
import { live } from '../app.js';
import { cards, series, h, ms, perSecond, bytes } from './common.js';

export function overview(main) {
  main.append(h('h1', {}, 'Overview'));
  const set = cards(main, ['Status', 'Versions ready', 'Not serving', 'Requests', 'Errors', 'p50', 'p99', 'CPU', 'Memory']);
  const grid = h('div', { class: 'grid' });
  main.append(grid);
  const traffic = lineChart(grid, 'Requests per second', [{ label: 'requests' }, { label: 'errors', color: '--series-2' }], '/s');
  const latency = lineChart(grid, 'Latency', [{ label: 'p50' }, { label: 'p99', color: '--series-3' }], 'ms');
  const cpu = lineChart(grid, 'CPU (cores busy)', [{ label: 'cpu' }]);
  const memory = lineChart(grid, 'Memory', [{ label: 'resident' }, { label: '.NET heap', color: '--series-3' }], 'B');

  function update() {
    const latest = live.latest;
    if (!latest) return;
    const s = latest.server;
    set('Status', s.ready ? 'ready' : 'not ready');
    set('Versions ready', s.versions_ready);
    set('Not serving', s.models_not_serving);
    set('Requests', perSecond(s.requests_per_second));
    set('Errors', perSecond(s.errors_per_second));
    set('p50', ms(s.p50_ms));
    set('p99', ms(s.p99_ms));
    set('CPU', `${format(s.cpu_cores)} / ${s.cores}`);
    set('Memory', bytes(s.resident_bytes));
    const history = live.history;
    traffic.update([series(history, x => x.server.requests_per_second), series(history, x => x.server.errors_per_second)]);
    latency.update([series(history, x => x.server.p50_ms), series(history, x => x.server.p99_ms)]);
    cpu.update([series(history, x => x.server.cpu_cores)]);
    memory.update([series(history, x => x.server.resident_bytes), series(history, x => x.server.heap_bytes)]);
  }

  update();
  live.listeners.add(update);
  return () => live.listeners.delete(update);
}
