import { afterEach, describe, expect, it, vi } from 'vitest';
import { debianTool } from '../helpers/tools.js';

/** The fresh-machine path: a test that needs an absent Debian program skips with one line, except under CI. */
describe('a Debian program some tests need', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('is found where installed', () => {
    vi.stubEnv('CI', '');
    expect(debianTool('sh', 'dash', 'these tests')).toMatch(/sh$/);
  });

  it('skips its tests with one line naming the package where absent', () => {
    vi.stubEnv('CI', '');
    const written = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(debianTool('idv-no-such-program', 'idv-no-such-package', 'these tests')).toBeUndefined();
      expect(written.mock.calls.map((c) => String(c[0]))).toEqual(['idv-no-such-program not found (apt-get install idv-no-such-package): skipping these tests\n']);
    } finally {
      written.mockRestore();
    }
  });

  it('fails the run under CI=true, where CI installs every one', () => {
    vi.stubEnv('CI', 'true');
    expect(() => debianTool('idv-no-such-program', 'idv-no-such-package', 'these tests')).toThrow('idv-no-such-program not found (apt-get install idv-no-such-package; .ci/run installs it): these tests cannot run');
  });
});
