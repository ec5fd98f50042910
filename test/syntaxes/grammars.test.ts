// Runs vscode-tmgrammar-test on the committed fixtures, so `npm test` checks both grammars. The must-fail fixture
// holds a wrong expectation on purpose: if the harness stopped reporting failures, that case would notice.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const cli = join(root, 'node_modules', 'vscode-tmgrammar-test', 'dist', 'unit.js');
const grammars = ['syntaxes/nasm.tmLanguage.json', 'syntaxes/ringside-trace.tmLanguage.json'].flatMap((g) => ['-g', g]);

function runFixtures(glob: string) {
  const result = spawnSync(process.execPath, [cli, ...grammars, glob], { cwd: root, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('TextMate grammars', () => {
  it.each(['nasm-numbers.test.asm', 'nasm-syntax.test.asm', 'trace.test.rtrace', 'trace-engine.test.rtrace'])('%s matches its expected scopes', (fixture) => {
    const { status, output } = runFixtures(`test/syntaxes/${fixture}`);
    expect(output).toContain(`✓ test/syntaxes/${fixture} run successfuly`);
    expect(status, output).toBe(0);
  });

  it('reports a fixture whose expectation is wrong', () => {
    const { status, output } = runFixtures('test/syntaxes/must-fail/wrong-scope.asm');
    expect(status).not.toBe(0);
    expect(output).toContain('missing required scopes: constant.numeric.binary.nasm');
  });

  it('every grammar the package contributes is tested here', async () => {
    const pkg = (await import('../../package.json')).default;
    const contributed = pkg.contributes.grammars.map((g) => g.path.replace(/^\.\//, ''));
    expect(contributed.sort()).toEqual(grammars.filter((g) => g !== '-g').sort());
  });
});
