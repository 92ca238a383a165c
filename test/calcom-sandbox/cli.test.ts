import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_API_KEY } from './index.js';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

describe('calcom-sandbox CLI', () => {
  it('when started, then it prints one ready line, serves the API, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', cli], {
      env: { ...process.env, CALCOM_SANDBOX_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout });
        rl.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`CLI exited early with ${code}`)));
        setTimeout(() => reject(new Error('no ready line within 20 s')), 20_000).unref();
      });
      const ready = JSON.parse(line);
      expect(ready.sandbox).toBe('ready');
      const me = await fetch(`${ready.url}/v2/me`, { headers: { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` } });
      expect(((await me.json())).data.username).toBe('demo');
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
