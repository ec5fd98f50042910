// Instruction handlers: string (registered in ops/index.ts; rows in decode/table.ts).

import type { Handler } from '../decode/instr';

export const handlers: Record<string, Handler> = {};
