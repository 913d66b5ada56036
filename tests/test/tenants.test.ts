import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, PlatformUnderTest } from '@docproc/testkit';

/** Makes a key with `docproc new-key`, as an operator would, and returns it. */
function newKey(file: string, id: string, tenant: string, roles: string): string {
  const out = execFileSync(process.execPath, [CLI, 'new-key', '--id', id, '--tenant', tenant, '--roles', roles, '--file', file], {
    encoding: 'utf8',
  });
  return /: (dpk_\S+)/.exec(out)![1]!;
}

interface Validated {
  name: string;
  steps: { validate: { status: string; reasons: { rule: string }[] } };
}

/**
 * Two tenants on one platform (real processes): each stores a rule set under the same name,
 * and the validation worker reads each job's own tenant's; neither sees the other's job.
 */
describe('two tenants share a platform', () => {
  let platform: PlatformUnderTest | undefined;
  afterEach(async () => platform?.stop());

  it("each tenant's jobs use its own stored rule set; the other tenant's job is not there, through the API and the CLI", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'docproc-keys-')), 'api-keys.json');
    const acme = newKey(file, 'acme-user', 'acme', 'submit,read');
    const globex = newKey(file, 'globex-user', 'globex', 'submit,read');
    platform = new PlatformUnderTest({ DOCPROC_API_KEYS_FILE: file });
    await platform.start(['orchestrator', 'worker-validation']);
    await platform.workersUp('validate', 1);
    const base = platform.base;
    const as = (key: string) => ({ authorization: `Bearer ${key}` });

    const store = (key: string, rules: object[]) =>
      fetch(`${base}/v1/rulesets`, {
        method: 'POST',
        headers: { ...as(key), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'house', rules }),
      });
    expect((await store(acme, [{ kind: 'textLength', name: 'acme-length', min: 5 }])).status).toBe(201);
    expect((await store(globex, [{ kind: 'regex', name: 'globex-reference', pattern: 'GLX-\\d+' }])).status).toBe(201);

    const submit = async (key: string) => {
      const form = new FormData();
      form.append('files', new Blob([Buffer.from('A short note without any reference in it.')]), 'note.txt');
      form.append('pipeline', 'validate');
      form.append('options', JSON.stringify({ validate: { ruleset: 'house' } }));
      const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form, headers: as(key) });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const acmeJob = await submit(acme);
    const globexJob = await submit(globex);
    const resultsOf = async (key: string, id: string) => {
      for (;;) {
        const job = (await (await fetch(`${base}/v1/jobs/${id}`, { headers: as(key) })).json()) as { finishedAt: string | null };
        if (job.finishedAt) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      return ((await (await fetch(`${base}/v1/jobs/${id}/results`, { headers: as(key) })).json()) as { documents: Validated[] }).documents[0]!.steps
        .validate;
    };
    // the same name, each tenant's own rules: acme's passes the note, globex's wants a reference
    expect(await resultsOf(acme, acmeJob)).toMatchObject({ status: 'passed', reasons: [] });
    const globexValidation = await resultsOf(globex, globexJob);
    expect({ status: globexValidation.status, rules: globexValidation.reasons.map((r) => r.rule) }).toEqual({
      status: 'failed',
      rules: ['globex-reference'],
    });

    // acme's job does not exist for globex's key, by the API or the CLI (exit 4: refused)
    expect((await fetch(`${base}/v1/jobs/${acmeJob}`, { headers: as(globex) })).status).toBe(404);
    const status = spawnSync(process.execPath, [CLI, 'status', acmeJob, '--url', base, '--key', globex], { encoding: 'utf8' });
    expect({ code: status.status, stderr: status.stderr.trim() }).toEqual({ code: 4, stderr: expect.stringMatching(/no job/) });
    const listed = spawnSync(process.execPath, [CLI, 'list', '--json', '--url', base, '--key', globex], { encoding: 'utf8' });
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(globexJob);
    expect(listed.stdout).not.toContain(acmeJob);
  }, 120_000);
});
