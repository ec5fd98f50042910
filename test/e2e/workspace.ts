// The workspace the e2e test opens, laid out as in the repository: the example's folder (its NASM source and built
// image) beside a copy of examples/include, so nasm finds the shared macros when the extension assembles the
// source for its listing; and a launch.json that debugs the image.
import { cpSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './e2e-env';

export interface ExampleWorkspace {
  folder: string;
  source: string;
  image: string;
  /** Names as the Explorer shows them: the example's folder, its source and its image. */
  exampleFolderName: string;
  sourceName: string;
  imageName: string;
}

/**
 * `launch` is merged into the example's configuration; `otherConfigurations` are added after it as they are
 * (each with its own name), e.g. deliberately wrong ones.
 */
export function makeExampleWorkspace(
  root: string,
  example: string,
  launch: Record<string, unknown>,
  otherConfigurations: Record<string, unknown>[] = [],
): ExampleWorkspace {
  const folder = join(root, 'workspace');
  const exampleFolder = join(folder, example);
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  mkdirSync(exampleFolder, { recursive: true });
  const sourceName = `${example}.asm`;
  const imageName = `${example}.bin`;
  const examples = join(PROJECT_ROOT, 'examples');
  copyFileSync(join(examples, example, sourceName), join(exampleFolder, sourceName));
  copyFileSync(join(examples, example, imageName), join(exampleFolder, imageName));
  cpSync(join(examples, 'include'), join(folder, 'include'), { recursive: true });
  const configuration = {
    type: 'ringside',
    request: 'launch',
    name: `Ringside: ${example}`,
    program: `\${workspaceFolder}/${example}/${imageName}`,
    stopOnEntry: true,
    ...launch,
  };
  writeFileSync(
    join(folder, '.vscode', 'launch.json'),
    JSON.stringify({ version: '0.2.0', configurations: [configuration, ...otherConfigurations] }, null, 2),
  );
  return {
    folder,
    source: join(exampleFolder, sourceName),
    image: join(exampleFolder, imageName),
    exampleFolderName: example,
    sourceName,
    imageName,
  };
}
