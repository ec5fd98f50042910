// The one error every loader throws for a bad image or a bad option. Its message is a single line that names the
// problem (and where in the file it is) so that `ringside run` can print it as is and exit with code 1.

export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

export function hex(n: number): string {
  return '0x' + n.toString(16).toUpperCase();
}
