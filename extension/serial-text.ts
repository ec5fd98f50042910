// COM1 bytes to terminal text. A guest usually ends lines with a bare LF; an xterm needs CR LF to return to the
// first column. Pure, so the translation is tested without a terminal.

/** Translates lone LFs to CR LF, keeping a CR LF that the guest sent itself (also when split across events). */
export class SerialLineEndings {
  private lastWasCr = false;

  translate(data: string): string {
    let out = '';
    for (const c of data) {
      if (c === '\n' && !this.lastWasCr) out += '\r';
      out += c;
      this.lastWasCr = c === '\r';
    }
    return out;
  }
}

