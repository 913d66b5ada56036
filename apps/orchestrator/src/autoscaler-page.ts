import { Router } from 'express';
import { STEPS, type StepName } from '@docproc/catalog';
import { readScaling, type PoolDecision, type ScalingPoint, type ScalingSnapshot } from '@docproc/pools';
import type { AppDeps } from './deps';
import { html, layout, type Html } from './html';

export const AUTOSCALER_PATH = '/autoscaler';

const CHART = { width: 720, height: 140, left: 34, right: 10, top: 10, bottom: 22 };
const HOUR_MS = 3600_000;

/** A step line through (time, workers) points: workers hold until the next look. */
function stepPath(points: [at: number, workers: number][], x: (at: number) => number, y: (n: number) => number): string {
  const [first, ...rest] = points;
  if (!first) return '';
  const f = (n: number) => n.toFixed(1);
  return [`M${f(x(first[0]))},${f(y(first[1]))}`, ...rest.map(([at, n]) => `H${f(x(at))} V${f(y(n))}`)].join(' ');
}

/** Desired against actual workers of one pool over the last hour, with its max. */
function chart(pool: StepName, history: ScalingPoint[], now: number, max: number): Html {
  const { width, height, left, right, top, bottom } = CHART;
  const points = history.filter((p) => p.pools[pool]);
  const top_ = Math.max(1, max, ...points.flatMap((p) => p.pools[pool]!));
  // The last hour, or less while there is less history: a burst should not be a sliver.
  const span = Math.min(HOUR_MS, Math.max(60_000, now - (points[0]?.at ?? now)));
  const x = (at: number) => left + ((at - (now - span)) / span) * (width - left - right);
  const y = (n: number) => top + (1 - n / top_) * (height - top - bottom);
  const line = (index: 0 | 1) => {
    const series = points.map((p): [number, number] => [p.at, p.pools[pool]![index]]);
    if (series.length === 0) return '';
    return stepPath([...series, [now, series.at(-1)![1]]], x, y);
  };
  const ticks = [4, 3, 2, 1, 0].map((quarter) => {
    const ago = (span * quarter) / 4;
    const label = ago === 0 ? 'now' : span < 300_000 ? `−${Math.round(ago / 1000)} s` : `−${Math.round(ago / 60_000)} min`;
    return { at: now - ago, label };
  });
  const levels = [...new Set([0, Math.round(top_ / 2), top_])];
  return html`<svg
    class="scaling-chart"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="${pool}: desired and actual workers, up to the last hour"
  >
    ${levels.map(
      (n) =>
        html`<line class="grid" x1="${left}" x2="${width - right}" y1="${y(n)}" y2="${y(n)}" />
          <text class="axis" x="${left - 6}" y="${y(n) + 4}" text-anchor="end">${n}</text>`,
    )}
    ${ticks.map((t) => html`<text class="axis" x="${x(t.at)}" y="${height - 6}" text-anchor="middle">${t.label}</text>`)}
    <line class="max" x1="${left}" x2="${width - right}" y1="${y(max)}" y2="${y(max)}" />
    <path class="desired" d="${line(1)}" />
    <path class="actual" d="${line(0)}" />
  </svg>`;
}

const figure = (n: number | null, unit = '', digits = 2) => (n === null ? '—' : `${Math.round(n * 10 ** digits) / 10 ** digits}${unit}`);

function poolSection(d: PoolDecision, snapshot: ScalingSnapshot, history: ScalingPoint[], now: number): Html {
  const pool = snapshot.pools[d.pool];
  const s = d.signals;
  return html`<section class="pool" id="pool-${d.pool}">
    <h2>
      ${d.pool} <span class="workers">${d.current} → ${d.desired}</span> <span class="status ${d.kind}">${d.kind}</span>
      <span class="hint"
        >min ${pool?.min} · max
        ${pool?.max}${pool?.draining ? ` · ${pool.draining} draining` : ''}${pool?.restarts ? ` · ${pool.restarts} restarts` : ''}</span
      >
    </h2>
    <p class="reason">${d.reason}</p>
    ${pool?.error ? html`<p class="error">The backend could not apply it: ${pool.error}</p>` : ''}
    ${chart(d.pool, history, now, pool?.max ?? d.desired)}
    <table class="signals">
      <tr>
        <th>waiting</th>
        <th>running</th>
        <th>on the way</th>
        <th>oldest wait</th>
        <th>arrivals</th>
        <th>completions</th>
        <th>task time</th>
        <th>errors</th>
        <th>worker RSS</th>
        <th>worker CPU</th>
      </tr>
      <tr>
        <td>${s.backlog}</td>
        <td>${s.active}</td>
        <td>${s.incoming}</td>
        <td>${figure(s.oldestWaitSeconds, ' s', 1)}</td>
        <td>${figure(s.arrivalsPerSecond, '/s')}</td>
        <td>${figure(s.completionsPerSecond, '/s')}</td>
        <td>${figure(s.meanTaskSeconds, ' s')}</td>
        <td>${s.errorRate === null ? '—' : `${Math.round(s.errorRate * 100)} %`}</td>
        <td>${s.workerRssBytes === null ? '—' : `${Math.round(s.workerRssBytes / 2 ** 20)} MiB`}</td>
        <td>${figure(s.workerCpuCores, ' cores')}</td>
      </tr>
    </table>
  </section>`;
}

/**
 * /autoscaler: per pool, the autoscaler's latest decision in words, its inputs, and
 * desired against actual workers over the last hour. Server-drawn SVG;
 * public/autoscaler-page.js fetches the page again every interval and swaps its content.
 */
export function autoscalerPage(deps: Pick<AppDeps, 'redis' | 'config'>): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const now = Date.now();
    const { latest, history } = await readScaling(deps.redis, deps.config.keyPrefix, now - HOUR_MS);
    const refresh = Math.max(2, Math.round(latest?.intervalSeconds ?? 5));
    const stale = latest !== null && now - latest.at > 3 * latest.intervalSeconds * 1000;
    const body = html`<main data-refresh-seconds="${refresh}">
      <noscript><meta http-equiv="refresh" content="${refresh}" /></noscript>
      <h1>Autoscaler</h1>
      ${
        latest === null
          ? html`<p class="empty">The autoscaler has not looked yet: <code>pnpm start</code> runs it, or the autoscaler app on Kubernetes.</p>`
          : html`<p class="hint">
                Backend <strong>${latest.backend}</strong>, a look every ${latest.intervalSeconds} s; last at
                <time datetime="${new Date(latest.at).toISOString()}">${new Date(latest.at).toISOString().slice(11, 19)}</time> UTC.
                ${stale ? html`<strong class="error">No look for ${Math.round((now - latest.at) / 1000)} s: is the autoscaler running?</strong>` : ''}
              </p>
              <p class="legend">
                <span class="key actual"></span> actual workers <span class="key desired"></span> desired <span class="key max"></span> max
              </p>
              ${STEPS.map((pool) => latest.decisions.find((d) => d.pool === pool)).map((d) => (d ? poolSection(d, latest, history, now) : ''))}`
      }
    </main>`;
    res.type('html').send(layout('Autoscaler', body, 'autoscaler-page.js'));
  });
  return router;
}
