import express from 'express';
import request from 'supertest';
import { DURATION_BUCKETS_SECONDS } from '@docproc/batches';
import { loadConfig } from '@docproc/config';
import { metricsRoute } from '../src/metrics';
import type { PlatformState } from '../src/platform-state';

const config = loadConfig({});
const app = (readState: () => Promise<PlatformState>) => express().get('/metrics', metricsRoute(readState, config));

/** A platform that has done nothing yet: no counts, no workers, no autoscaler. */
const quiet: PlatformState = {
  at: new Date(),
  workers: [],
  queues: [],
  counters: {
    tasks: [],
    durations: {},
    pages: {},
    documents: {},
    batches: {},
    reviews: {},
    crashes: [],
    repairs: {},
    tenantLoads: {},
    quotaRefusals: [],
  },
  scaling: null,
  reviewsWaiting: 0,
  documentsToday: {},
};

describe('GET /metrics', () => {
  it('shows every counter at 0 before its first event, so increase() sees that event', async () => {
    const { text } = await request(app(() => Promise.resolve(quiet)))
      .get('/metrics')
      .expect(200);
    for (const line of [
      'docproc_tasks_total{step="preprocess",outcome="dead_lettered"} 0',
      'docproc_documents_total{status="failed"} 0',
      'docproc_batches_total{status="completed_with_errors"} 0',
      'docproc_reviews_total{decision="rejected"} 0',
      'docproc_task_crashes_total{step="ocr",cause="killed"} 0',
      'docproc_task_duration_seconds_count{step="nlp"} 0',
      'docproc_workers{pool="validate"} 0',
      'docproc_queue_target_wait_seconds{queue="ocr"} 30',
      'docproc_redis_up 1',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });

  it('has duration buckets up to the longest task a step may run', async () => {
    const longest = Math.max(...Object.values(config.stepTimeoutMs)) / 1000;
    expect(DURATION_BUCKETS_SECONDS.at(-1)).toBeGreaterThanOrEqual(longest);
    const { text } = await request(app(() => Promise.resolve(quiet))).get('/metrics');
    expect(text).toContain(`docproc_task_duration_seconds_bucket{step="preprocess",le="${longest}"} 0`);
  });

  it('answers without the platform, saying Redis is down, when Redis does not answer', async () => {
    const failing = await request(app(() => Promise.reject(new Error('connect ECONNREFUSED'))))
      .get('/metrics')
      .expect(200);
    expect(failing.text.split('\n')).toContain('docproc_redis_up 0');
    expect(failing.text).not.toMatch(/^docproc_queue_tasks/m);
    expect(failing.text).toMatch(/^docproc_orchestrator_process_cpu_seconds_total/m);
    const started = Date.now();
    const hanging = await request(app(() => new Promise<PlatformState>(() => undefined))).get('/metrics');
    expect(hanging.text.split('\n')).toContain('docproc_redis_up 0');
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);
});
