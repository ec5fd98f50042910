// The handler registry: every handler name used in decode/table.ts, by instruction group.

import type { Handler } from '../decode/instr';
import { handlers as alu } from './alu';
import { handlers as muldiv } from './muldiv';
import { handlers as shift } from './shift';
import { handlers as bcd } from './bcd';
import { handlers as bit } from './bit';
import { handlers as move } from './move';
import { handlers as stack } from './stack';
import { handlers as control } from './control';
import { handlers as string } from './string';
import { handlers as io } from './io';
import { handlers as segment } from './segment';
import { handlers as far } from './far';
import { handlers as system } from './system';
import { handlers as p6 } from './p6';

export const HANDLERS: Readonly<Record<string, Handler>> = {
  ...alu,
  ...muldiv,
  ...shift,
  ...bcd,
  ...bit,
  ...move,
  ...stack,
  ...control,
  ...string,
  ...io,
  ...segment,
  ...far,
  ...system,
  ...p6,
};
