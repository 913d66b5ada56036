import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@docproc/config';

interface Service {
  depends_on?: Record<string, { condition: string }> | string[];
  mem_limit?: string;
  stop_grace_period?: string;
  logging?: { driver: string; options: Record<string, string> };
  ports?: string[];
  profiles?: string[];
  healthcheck?: object;
}

/** docker/compose.yaml as Docker Compose reads it (tests/deploy/containers.test.ts runs it under podman-compose). */
describe('docker/compose.yaml', () => {
  const compose = parse(readFileSync(resolve(__dirname, '..', '..', 'docker', 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const apps = ['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation', 'autoscaler'];
  const seconds = (duration: string) => {
    const [, n, unit] = /^(\d+)(s|m|h)$/.exec(duration)!;
    return Number(n) * { s: 1, m: 60, h: 3600 }[unit as 's' | 'm' | 'h'];
  };

  it('starts the apps once Redis is healthy, with memory limits and rotated logs', () => {
    expect(compose.services.redis!.healthcheck).toBeDefined();
    for (const name of apps) {
      const service = compose.services[name]!;
      expect({ name, depends_on: service.depends_on }).toEqual({ name, depends_on: { redis: { condition: 'service_healthy' } } });
      expect({ name, limit: service.mem_limit }).toEqual({ name, limit: expect.stringMatching(/^\d+[mg]$/) });
    }
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, logging: service.logging }).toEqual({ name, logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5' } } });
    }
  });

  it('gives each pool longer to drain than its longest task', () => {
    const timeouts = loadConfig({}).stepTimeoutMs;
    const pools = {
      'worker-preprocessing': timeouts.preprocess,
      'worker-ocr': timeouts.ocr,
      'worker-nlp': timeouts.nlp,
      'worker-validation': timeouts.validate,
    };
    for (const [name, ms] of Object.entries(pools)) {
      expect({ name, grace: seconds(compose.services[name]!.stop_grace_period!) > ms / 1000 }).toEqual({ name, grace: true });
    }
  });

  it('publishes its ports on 127.0.0.1 unless told otherwise, and keeps Prometheus behind a profile', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((port) => ({ name, port })));
    expect(published.length).toBeGreaterThan(0);
    for (const { name, port } of published)
      expect({ name, port }).toEqual({ name, port: expect.stringMatching(/^\$\{DOCPROC_BIND:-127\.0\.0\.1\}:/) });
    expect(compose.services.prometheus!.profiles).toEqual(['monitoring']);
    expect(
      Object.entries(compose.services)
        .filter(([, s]) => s.profiles)
        .map(([name]) => name),
    ).toEqual(['prometheus']);
  });
});
