// The Devices scope through a DAP client: stopped where the APIC guest (test/engine/devices/guests/apic-timer.asm)
// waits for the PIT, it shows the local APIC enabled with its timer masked, the I/O APIC routing ISA IRQ 0, the
// IMCR in symmetric mode, the masked 8259s, the PIT channel, COM1 and the PCI functions.
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildOnce, children, launchStopped, named, ROOT, scopeVariables, startClient } from './dap-client';

const GUEST = path.join(ROOT, 'test/engine/devices/guests/apic-timer.bin');

let dc: DebugClient;
beforeAll(() => buildOnce(), 60000);
afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

/** The address of the HLT in .wait_pit: the second `hlt; cmp dword [...], imm8` in the image. */
function pitWait(): number {
  const image = readFileSync(GUEST);
  const at: number[] = [];
  for (let i = 0; i + 2 < image.length; i++) if (image[i] === 0xf4 && image[i + 1] === 0x83 && image[i + 2] === 0x3d) at.push(i);
  return 0x7c00 + at[1];
}

describe('Devices scope', () => {
  it('comes after Control and shows the APIC, IOAPIC, PIC, IMCR, PIT, UART and PCI state at a stop', async () => {
    dc = await startClient();
    await launchStopped(dc, { program: GUEST, format: 'bin', mode: 'protected' });
    const args: DebugProtocol.SetInstructionBreakpointsArguments = { breakpoints: [{ instructionReference: '0x' + pitWait().toString(16) }] };
    await dc.customRequest('setInstructionBreakpoints', args);
    const stop = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await stop;
    const scopes = (await dc.scopesRequest({ frameId: 1 })).body.scopes.map((s) => s.name);
    // After the CPU's own scopes (Control, then the x87's FPU), before Monitor.
    expect(scopes.indexOf('Devices')).toBe(scopes.indexOf('FPU') + 1);
    const rows = await scopeVariables(dc, 'Devices');
    expect(named(rows, 'APIC').value).toBe('enabled, TPR=0x00 PPR=0x00 IRR none ISR none');
    expect(named(rows, 'IOAPIC').value).toBe('ID 1, 2→0x41');
    expect(named(rows, 'IMCR').value).toBe('symmetric I/O mode');
    expect(named(rows, 'PIC').value).toContain('IMR=0xff');
    expect(named(rows, 'PIT').value).toMatch(/^ch0 mode 2 count \d+\/1000/);
    expect(named(rows, 'UART (COM1)').value).toContain('divisor 12');
    expect(named(rows, 'PCI').value).toBe('00:00.0 8086:1237, 00:01.0 8086:7000, 00:01.1 8086:7010');
    expect(named(rows, 'display').value).toBe('text 80x25');
    const apic = await children(dc, named(rows, 'APIC'));
    expect(named(apic, 'SVR').value).toBe('0x000001ff');
    expect(named(apic, 'LVT timer').value).toBe('0x00010040'); // masked after five ticks
    expect(named(apic, 'ISR').value).toBe('none');
    expect(named(apic, 'timer initial count').value).toBe('0x000007d0');
    const ioapic = await children(dc, named(rows, 'IOAPIC'));
    expect(named(ioapic, 'input 2').value).toBe('unmasked vector 0x41 fixed edge dest 0x00');
    expect(named(ioapic, 'input 3').value).toMatch(/^masked/);
    const pci = await children(dc, named(rows, 'PCI'));
    expect(named(pci, '00:01.1').value).toBe('8086:7010 class 010180 IDE controller (PIIX3)');
  });
});
