// --screenshot FILE.png: the guest's screen drawn (text modes with the VGA font) and written as a PNG.
import { writeFileSync } from 'node:fs';
import { encodePng } from '../screen/png';
import { vgaFont } from '../screen/font';
import { renderScreen } from '../screen/render';
import type { Screen } from '../screen/screen';
import { UsageError } from './args';

export function writeScreenshot(screen: Screen, file: string): void {
  let png: Buffer;
  try {
    const picture = renderScreen(screen, vgaFont());
    png = encodePng(picture.width, picture.height, picture.rgba);
  } catch (e) {
    throw new UsageError(`option --screenshot: ${(e as Error).message}`);
  }
  try {
    writeFileSync(file, png);
  } catch (e) {
    throw new UsageError(`option --screenshot: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
