// The workspace the e2e test opens: a copy of one example (its NASM source and built image) and a launch.json
// that debugs the image with a stop on entry.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './e2e-env';

export interface ExampleWorkspace {
  folder: string;
  source: string;
  image: string;
  /** File names as the Explorer shows them. */
  sourceName: string;
  imageName: string;
}

export function makeExampleWorkspace(root: string, example: string, launch: Record<string, unknown>): ExampleWorkspace {
  const folder = join(root, 'workspace');
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  const sourceName = `${example}.asm`;
  const imageName = `${example}.bin`;
  const exampleDir = join(PROJECT_ROOT, 'examples', example);
  copyFileSync(join(exampleDir, sourceName), join(folder, sourceName));
  copyFileSync(join(exampleDir, imageName), join(folder, imageName));
  const configuration = {
    type: 'ringside',
    request: 'launch',
    name: `Ringside: ${example}`,
    program: `\${workspaceFolder}/${imageName}`,
    stopOnEntry: true,
    ...launch,
  };
  writeFileSync(
    join(folder, '.vscode', 'launch.json'),
    JSON.stringify({ version: '0.2.0', configurations: [configuration] }, null, 2),
  );
  return { folder, source: join(folder, sourceName), image: join(folder, imageName), sourceName, imageName };
}
