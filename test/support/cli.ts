/** Runs `connect-fn` commands in-process and sets environment variables for one test. */
import { afterEach } from 'vitest';
import { main } from '../../src/cli/main.ts';

/** `connect-fn validate ...args`: the exit code and every line written, stdout and stderr apart and together. */
export async function runValidate(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['validate', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, all: [...out, ...err].join('\n') };
}

const setEnv: string[] = [];
afterEach(() => {
  for (const key of setEnv.splice(0)) delete process.env[key];
});

/** Sets `vars` in `process.env` until the end of the current test. */
export function testEnv(vars: Record<string, string>): void {
  for (const [key, value] of Object.entries(vars)) {
    process.env[key] = value;
    setEnv.push(key);
  }
}
